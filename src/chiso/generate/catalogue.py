"""Procedure catalogue: a national pool of commune-level TTHC and each unit's share of it.

Codes look like the national TTHC database's (`1.001193`, `2.000908`); every unit draws
from one province-wide pool, so the same procedure carries the same code in every unit
and `dim_procedure` has something to join on.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

# The procedures a commune actually handles, most frequent first: the order sets their
# popularity, so certified copies and civil-status registrations dominate as in seed 002.
BASE_PROCEDURES: tuple[str, ...] = (
    "Chứng thực bản sao từ bản chính giấy tờ, văn bản",
    "Chứng thực chữ ký trong các giấy tờ, văn bản",
    "Đăng ký khai sinh",
    "Cấp bản sao trích lục hộ tịch",
    "Cấp Giấy xác nhận tình trạng hôn nhân",
    "Đăng ký khai tử",
    "Đăng ký kết hôn",
    "Chứng thực hợp đồng, giao dịch liên quan đến tài sản là động sản, quyền sử dụng đất và nhà ở",
    "Đăng ký thành lập hộ kinh doanh",
    "Đăng ký biến động quyền sử dụng đất, quyền sở hữu tài sản gắn liền với đất",
    "Liên thông thủ tục hành chính về đăng ký khai sinh, đăng ký thường trú, cấp thẻ bảo hiểm y tế "
    "cho trẻ em dưới 6 tuổi",
    "Chứng thực văn bản thỏa thuận phân chia di sản",
    "Đăng ký thay đổi nội dung đăng ký hộ kinh doanh",
    "Trợ cấp xã hội hằng tháng đối với đối tượng bảo trợ xã hội",
    "Đăng ký thay đổi, cải chính, bổ sung thông tin hộ tịch",
    "Liên thông thủ tục hành chính về đăng ký khai tử, xóa đăng ký thường trú, hưởng chế độ tử tuất",
    "Đăng ký nhận cha, mẹ, con",
    "Cấp giấy phép xây dựng nhà ở riêng lẻ",
    "Chứng thực văn bản khai nhận di sản",
    "Đăng ký đất đai, tài sản gắn liền với đất lần đầu",
    "Hỗ trợ chi phí mai táng cho đối tượng bảo trợ xã hội",
    "Xác định, xác định lại mức độ khuyết tật và cấp Giấy xác nhận khuyết tật",
    "Chấm dứt hoạt động hộ kinh doanh",
    "Tạm ngừng hoạt động hộ kinh doanh",
    "Cấp bản sao có chứng thực từ bản chính hợp đồng, giao dịch đã được chứng thực",
    "Chứng thực di chúc",
    "Chứng thực việc sửa đổi, bổ sung, hủy bỏ hợp đồng, giao dịch",
    "Chứng thực chữ ký người dịch",
    "Đăng ký lại khai sinh",
    "Đăng ký khai sinh kết hợp nhận cha, mẹ, con",
    "Đăng ký giám hộ",
    "Đăng ký chấm dứt giám hộ",
    "Đăng ký lại kết hôn",
    "Đăng ký lại khai tử",
    "Đăng ký khai sinh có yếu tố nước ngoài",
    "Đăng ký kết hôn có yếu tố nước ngoài",
    "Đăng ký khai tử có yếu tố nước ngoài",
    "Ghi vào Sổ hộ tịch việc hộ tịch của công dân Việt Nam đã được giải quyết tại cơ quan có thẩm "
    "quyền của nước ngoài",
    "Cấp lại Giấy chứng nhận đăng ký hộ kinh doanh",
    "Điều chỉnh, thôi hưởng trợ cấp xã hội hằng tháng",
    "Công nhận hộ nghèo, hộ cận nghèo phát sinh trong năm",
    "Công nhận hộ thoát nghèo, hộ thoát cận nghèo trong năm",
    "Cấp giấy phép sửa chữa, cải tạo công trình",
    "Gia hạn giấy phép xây dựng",
    "Hòa giải tranh chấp đất đai",
    "Chuyển mục đích sử dụng đất",
    "Giao đất, cho thuê đất đối với hộ gia đình, cá nhân",
    "Xác nhận hợp đồng tiếp cận nguồn nước",
    "Cấp phép thi công xây dựng công trình trên đường bộ",
    "Cấp Giấy chứng nhận đủ điều kiện kinh doanh dịch vụ karaoke",
    "Cấp giấy phép bán lẻ sản phẩm rượu",
    "Cấp giấy phép bán lẻ sản phẩm thuốc lá",
    "Đăng ký thành lập hợp tác xã",
    "Trợ giúp xã hội khẩn cấp về hỗ trợ làm nhà ở, sửa chữa nhà ở",
    "Đăng ký hoạt động đối với cơ sở trợ giúp xã hội",
    "Giải quyết chế độ trợ cấp thờ cúng liệt sĩ",
    "Cấp giấy xác nhận thân nhân của người có công",
    "Giải quyết chế độ mai táng phí đối với cựu chiến binh",
    "Hỗ trợ người có công đi làm phương tiện, dụng cụ trợ giúp chỉnh hình",
    "Cho phép trường mầm non hoạt động giáo dục",
    "Thành lập nhóm trẻ, lớp mẫu giáo độc lập",
    "Chuyển trường đối với học sinh trung học cơ sở",
    "Xét, duyệt chính sách hỗ trợ đối với học sinh bán trú",
    'Xét tặng danh hiệu "Gia đình văn hóa"',
    'Xét tặng danh hiệu "Khu dân cư văn hóa"',
    "Thông báo tổ chức lễ hội cấp xã",
    "Đăng ký tổ chức lễ hội cấp xã",
    "Công nhận câu lạc bộ thể thao cơ sở",
    "Phê duyệt kế hoạch khuyến nông địa phương",
    "Hỗ trợ khôi phục sản xuất vùng bị thiệt hại do thiên tai",
    "Xác nhận nguồn gốc lâm sản",
    "Hỗ trợ dự án liên kết sản xuất, tiêu thụ sản phẩm nông nghiệp",
    "Công nhận hòa giải viên",
    "Thôi làm hòa giải viên",
    "Thanh toán thù lao cho hòa giải viên",
    "Công nhận tuyên truyền viên pháp luật",
    "Đăng ký sinh hoạt tôn giáo tập trung",
    "Thông báo danh mục hoạt động tôn giáo",
    "Đề nghị tổ chức cuộc lễ ngoài cơ sở tôn giáo",
    "Công nhận người có uy tín trong đồng bào dân tộc thiểu số",
    "Tặng Giấy khen của Chủ tịch Ủy ban nhân dân cấp xã",
    "Xét tặng danh hiệu Lao động tiên tiến",
    "Hỗ trợ học văn hóa, học nghề, trợ cấp khó khăn ban đầu cho nạn nhân",
    "Đăng ký khai thác nước dưới đất",
    "Thủ tục thực hiện hỗ trợ nhà ở cho người có công với cách mạng",
    "Đăng ký kê khai số lượng chăn nuôi tập trung",
    "Xác nhận bảng kê lâm sản",
    "Thông báo tổ chức quyên góp trong địa bàn một xã",
    "Đăng ký người đại diện, cơ cấu tổ chức của nhóm sinh hoạt tôn giáo",
)

# Real catalogues list situational variants of one procedure as separate TTHC.
VARIANT_SUFFIXES: tuple[str, ...] = (
    " lưu động",
    " (trường hợp ủy quyền)",
    " trên môi trường điện tử",
    " (cấp lại)",
    " (liên thông)",
    " đối với người đã có hồ sơ, giấy tờ cá nhân",
)

CERTIFIED_COPY = BASE_PROCEDURES[0]
CORE_COUNT = 40  # every commune handles the 40 most frequent procedures
POOL_SIZE = 620
PROVINCE_POOL_SIZE = 520
# Procedures whose receipts carry no appointment date (the one-stop system sets none).
NO_APPOINTMENT_SHARE = 0.08
FEE_LEVELS = np.array([2_000, 10_000, 20_000, 30_000, 50_000, 100_000, 200_000, 500_000])


@dataclass(frozen=True)
class ProcedurePool:
    """Procedure attributes shared by every unit of a province (arrays aligned by index)."""

    code: np.ndarray  # str
    name: np.ndarray  # str
    popularity: np.ndarray  # float, relative dossier volume
    processing_days: np.ndarray  # int, legal time limit in working days
    fee: np.ndarray  # int VND, 0 when the procedure has no fee
    online_capable: np.ndarray  # float, how far the procedure can go online (0 none … 1 full)
    returns_paper_result: np.ndarray  # bool
    is_certified_copy: np.ndarray  # bool
    no_appointment: np.ndarray  # bool, dossiers get no appointment date (2.1 counts the time limit)

    def __len__(self) -> int:
        return len(self.code)


def national_pool(seed: int) -> ProcedurePool:
    rng = np.random.default_rng([seed, 766_001])
    names = list(BASE_PROCEDURES)
    rank = list(range(len(BASE_PROCEDURES)))
    variant = 0
    while len(names) < POOL_SIZE:
        base = variant % len(BASE_PROCEDURES)
        round_ = variant // len(BASE_PROCEDURES)
        suffix = VARIANT_SUFFIXES[round_] if round_ < len(VARIANT_SUFFIXES) else f" (quy trình {round_})"
        names.append(BASE_PROCEDURES[base] + suffix)
        rank.append(len(BASE_PROCEDURES) + variant)
        variant += 1
    size = len(names)
    numbers = rng.choice(np.arange(1, 14_000), size=size, replace=False)
    prefixes = np.where(rng.random(size) < 0.55, "1", "2")
    codes = np.array([f"{p}.{n:06d}" for p, n in zip(prefixes, numbers, strict=True)])
    ranks = np.asarray(rank, dtype=float)
    popularity = 1.0 / (ranks + 1.5) ** 1.05 * rng.lognormal(0.0, 0.35, size)
    days = np.clip(np.round(rng.gamma(1.6, 3.0, size)), 1, 15).astype(np.int64)
    has_fee = rng.random(size) < 0.30
    fee = np.where(has_fee, rng.choice(FEE_LEVELS[1:], size=size), 0)
    online_capable = rng.choice([0.0, 0.6, 1.0], size=size, p=[0.18, 0.37, 0.45])
    paper = rng.random(size) < 0.62
    certified = np.array([n == CERTIFIED_COPY for n in names])
    # Certified copies are same-day work with a per-page fee (2,000 VND a page).
    days[certified] = 1
    fee[certified] = 2_000
    online_capable[certified] = 1.0
    paper[certified] = True
    # Drawn apart so that adding it left the other attributes as they were.
    no_appointment = (np.random.default_rng([seed, 766_003]).random(size) < NO_APPOINTMENT_SHARE) & ~certified
    return ProcedurePool(
        code=codes,
        name=np.array(names, dtype=object),
        popularity=popularity,
        processing_days=days,
        fee=fee.astype(np.int64),
        online_capable=online_capable,
        returns_paper_result=paper,
        is_certified_copy=certified,
        no_appointment=no_appointment,
    )


def province_pool(pool: ProcedurePool, province_code: str, seed: int) -> np.ndarray:
    """Indices into the national pool available in a province: the core plus a stable subset."""
    rng = np.random.default_rng([seed, int(province_code), 766_002])
    rest = rng.choice(np.arange(CORE_COUNT, len(pool)), PROVINCE_POOL_SIZE - CORE_COUNT, replace=False)
    return np.sort(np.concatenate([np.arange(CORE_COUNT), rest]))


@dataclass(frozen=True)
class UnitCatalogue:
    index: np.ndarray  # indices into the national pool
    service_level: np.ndarray  # "none" | "partial" | "full"
    e_certified_copy: np.ndarray  # bool
    weight: np.ndarray  # float, this unit's dossier share per procedure (sums to 1)


def unit_catalogue(pool: ProcedurePool, available: np.ndarray, rng: np.random.Generator,
                   size: int, offered_online: float, full_share: float,
                   offers_e_copy: bool) -> UnitCatalogue:
    extra = rng.choice(available[available >= CORE_COUNT], size - CORE_COUNT, replace=False)
    index = np.sort(np.concatenate([np.arange(CORE_COUNT), extra]))
    capable = pool.online_capable[index]
    # A unit offers a procedure online when the procedure allows it and the unit has set it up.
    offered = rng.random(len(index)) < np.where(capable > 0, min(1.0, offered_online / 0.82), 0.0)
    full = offered & (capable >= 1.0) & (rng.random(len(index)) < full_share)
    level = np.where(full, "full", np.where(offered, "partial", "none")).astype(object)
    e_copy = pool.is_certified_copy[index] & offers_e_copy
    weight = pool.popularity[index] * rng.lognormal(0.0, 0.45, len(index))
    return UnitCatalogue(index, level, e_copy, weight / weight.sum())
