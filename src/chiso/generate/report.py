"""The commune's own monthly report (bao_cao.txt), written like seed 002.

Figures come from the unit's generated rows, so reconciliation can compare them with what
the warehouse computes; a small deterministic share of reports carries one reporting
error, which the generator records in its manifest as the answer key.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace
from datetime import timedelta

import numpy as np

from chiso.generate.tables import Figures
from chiso.generate.units import Unit
from chiso.periods import Period

ERROR_SHARE = 0.15
# Each reporting error is a mistake communes make: a typo in a count, late dossiers
# reported as on time, a total that is not carried-over + new, a stale procedure count.
ERROR_KINDS = ("online", "on_time_hides_overdue", "total", "received", "procedures_full")
# Planted errors are recorded under chiso.extract's figure names, the names reconciliation uses.
FIGURE_NAMES = {
    "online": "dossiers_received_online",
    "on_time": "dossiers_resolved_on_time",
    "resolved_late": "dossiers_resolved_late",
    "received": "dossiers_received",
    "direct": "dossiers_received_direct",
    "total": "dossiers_total",
    "procedures_full": "procedures_online_full",
}


@dataclass(frozen=True)
class ReportError:
    unit_code: str
    period: str
    figure: str
    reported: float
    computed: float


def number(value: int) -> str:
    """1069 → '1.069' (Vietnamese thousands separator)."""
    return f"{value:,}".replace(",", ".")


def percent(value: float) -> str:
    """94.78 → '94,78%', 100.0 → '100%', 95.70 → '95,7%'."""
    text = f"{value:.2f}".rstrip("0").rstrip(".")
    return text.replace(".", ",") + "%"


def _count(value: int, padded: bool) -> str:
    return f"{value:02d}" if padded and 0 < value < 10 else number(value)


def _rate(numerator: int, denominator: int) -> float:
    return round(100.0 * numerator / denominator, 2) if denominator else 100.0


def with_reporting_error(figures: Figures, rng: np.random.Generator, unit: Unit,
                         period: Period) -> tuple[Figures, list[ReportError]]:
    if rng.random() >= ERROR_SHARE:
        return figures, []
    kind = str(rng.choice(ERROR_KINDS))
    delta = max(1, round(figures.online * rng.uniform(0.02, 0.08)))
    if kind == "online" and (delta <= figures.direct or delta <= figures.online):
        # Shift dossiers between online and direct, so the report still adds up to received.
        delta = delta if delta <= figures.direct else -delta
        wrong = replace(figures, online=figures.online + delta, direct=figures.direct - delta)
        return wrong, [
            _error(unit, period, "online", wrong.online, figures.online),
            _error(unit, period, "direct", wrong.direct, figures.direct),
        ]
    if kind == "on_time_hides_overdue" and figures.resolved_late > 0:
        wrong = replace(figures, on_time=figures.on_time + figures.resolved_late, resolved_late=0)
        return wrong, [
            _error(unit, period, "on_time", wrong.on_time, figures.on_time),
            _error(unit, period, "resolved_late", 0, figures.resolved_late),
        ]
    if kind == "received":
        delta = int(rng.integers(3, 40))
        wrong = replace(figures, received=figures.received + delta, total=figures.total + delta,
                        system_city=figures.system_city + delta, direct=figures.direct + delta)
        return wrong, [
            _error(unit, period, "received", wrong.received, figures.received),
            _error(unit, period, "direct", wrong.direct, figures.direct),
            _error(unit, period, "total", wrong.total, figures.total),
        ]
    if kind == "procedures_full":
        delta = int(rng.integers(5, 30))
        wrong = replace(figures, procedures_full=figures.procedures_full + delta)
        return wrong, [
            _error(unit, period, "procedures_full", wrong.procedures_full, figures.procedures_full)
        ]
    # The arithmetic slip: the total no longer equals carried-over + newly received.
    delta = int(rng.integers(2, 25))
    wrong = replace(figures, total=figures.total + delta)
    return wrong, [_error(unit, period, "total", wrong.total, figures.total)]


def _error(unit: Unit, period: Period, figure: str, reported: float, computed: float) -> ReportError:
    return ReportError(unit.code, period.label, FIGURE_NAMES[figure], reported, computed)


def _feedback_sentence(f: Figures, unit: Unit, month: str) -> str:
    if f.feedback == 0:
        return (f"Trong tháng {month}, {unit.title} không có phản ánh, kiến nghị trên Cổng Dịch vụ công "
                "quốc gia.")
    return (f"Trong tháng {month}, {unit.title} tiếp nhận {f.feedback} phản ánh, kiến nghị trên Cổng Dịch "
            f"vụ công quốc gia, trong đó đã xử lý xong {f.feedback_handled} phản ánh, kiến nghị.")


def render(unit: Unit, province: tuple[str, str], period: Period, f: Figures,
           rng: np.random.Generator) -> str:
    template = int(rng.integers(0, 3))
    year, month = period.label[:4], period.label[5:7]
    start, end = period.start.strftime("%d/%m/%Y"), period.end.strftime("%d/%m/%Y")
    issued = period.end + timedelta(days=int(rng.integers(2, 9)))
    province_kind = "thành phố" if province[1].startswith("thành phố") else "tỉnh"
    city = f"{province_kind} {province[0]}"
    online_rate = percent(_rate(f.online, f.received))
    number_no = int(rng.integers(40, 400))
    signer = str(rng.choice(["Nguyễn Văn Hùng", "Trần Đình Nhuận", "Lê Thị Hương", "Phạm Minh Tuấn",
                             "Vũ Thị Lan", "Hoàng Văn Nam", "Đỗ Thị Thu Hà", "Bùi Quang Huy"]))
    heading = (
        f"ỦY BAN NHÂN DÂN{'':30}CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM\n"
        f"{unit.title.upper()}{'':30}Độc lập - Tự do - Hạnh phúc\n\n"
        f"Số: {number_no}/BC-UBND{'':24}{unit.name}, ngày {issued:%d} tháng {issued:%m} năm {issued:%Y}\n\n"
        "BÁO CÁO\n"
    )
    if f.resolved_late or f.in_progress_overdue:
        outcome_a = (
            f"giải quyết đúng hạn {number(f.on_time)} hồ sơ, giải quyết quá hạn "
            f"{_count(f.resolved_late, True)} hồ sơ, đang giải quyết trong hạn "
            f"{_count(f.in_progress_on_time, True)} hồ sơ, đang giải quyết quá hạn "
            f"{_count(f.in_progress_overdue, True)} hồ sơ"
        )
    else:
        outcome_a = (f"giải quyết đúng hạn {number(f.on_time)} hồ sơ, đang giải quyết trong hạn "
                     f"{_count(f.in_progress_on_time, True)} hồ sơ, không có hồ sơ quá hạn")
    if template == 0:
        body = (
            f"Kết quả thực hiện công tác cải cách thủ tục hành chính tháng {month} năm {year}\n\n"
            f"Thực hiện Công văn số {int(rng.integers(100, 999))}/UBND-TTPVHCC của UBND {city} "
            "về việc báo cáo cải cách thủ tục hành chính hằng tháng; Ủy ban nhân dân "
            f"{unit.title} báo cáo kết quả thực hiện công tác cải cách thủ tục hành chính tháng {month} năm "
            f"{year} (số liệu từ ngày {start} đến hết ngày {end}) như sau:\n\n"
            "I. KẾT QUẢ THỰC HIỆN\n\n"
            "1. Kết quả công khai, minh bạch trong thực hiện thủ tục hành chính\n\n"
            f"- Ủy ban nhân dân {unit.type} chỉ đạo các cơ quan, đơn vị công khai 100% các TTHC thuộc thẩm "
            "quyền giải quyết tại Trung tâm Phục vụ hành chính công; niêm yết công khai 100% TTHC được "
            f"thực hiện không phụ thuộc vào địa giới hành chính trong phạm vi {province_kind}.\n\n"
            "2. Kết quả giải quyết TTHC\n\n"
            f"- 100% hồ sơ giải quyết TTHC {unit.title} được tiếp nhận và giải quyết trên Hệ thống thông "
            f"tin giải quyết TTHC {province_kind} theo quy định.\n\n"
            f"- Kết quả giải quyết TTHC tháng {month} năm {year} (số liệu từ ngày {start} đến hết ngày "
            f"{end}):\n"
            f" - Tổng số {number(f.total)} hồ sơ (kỳ trước chuyển sang {_count(f.carried_over, True)} hồ sơ; "
            f"tiếp nhận mới {number(f.received)} hồ sơ, trong đó có {number(f.system_city)} hồ sơ được "
            f"tiếp nhận trên Hệ thống thông tin giải quyết TTHC của {province_kind} và "
            f"{number(f.system_ministry)} hồ sơ được tiếp nhận qua hệ thống của các bộ).\n\n"
            f"- Tổng số hồ sơ tiếp nhận trực tuyến {number(f.online)}/{number(f.received)} hồ sơ, đạt tỷ lệ "
            f"{online_rate}; tiếp nhận trực tiếp {number(f.direct)} hồ sơ, qua dịch vụ bưu chính công ích "
            f"{number(f.postal)} hồ sơ; {outcome_a}.\n\n"
            "3. Kết quả thực hiện dịch vụ công trực tuyến (DVCTT)\n\n"
            f"- Đã triển khai cung cấp được {number(f.procedures_full)} TTHC mức độ toàn trình và "
            f"{number(f.procedures_partial)} TTHC mức độ một phần theo quy định lên Cổng dịch vụ công "
            "quốc gia.\n\n"
            f"- Tỷ lệ hồ sơ trực tuyến {unit.type} đạt {online_rate}.\n\n"
            f"- Tỷ lệ hồ sơ thanh toán trực tuyến {percent(f.online_payment_rate)}.\n\n"
            "4. Kết quả số hóa hồ sơ, kết quả giải quyết TTHC\n\n"
            f"- Tỷ lệ hồ sơ TTHC số hóa hồ sơ, kết quả TTHC đạt {percent(f.digitised_rate)};\n\n"
            f"- Tỷ lệ hồ sơ cấp kết quả điện tử đạt {percent(f.e_result_rate)};\n\n"
            f"- Tỷ lệ tái sử dụng dữ liệu số hóa đạt {percent(f.reused_rate)}.\n\n"
            "5. Kết quả tiếp nhận và xử lý phản ánh, kiến nghị về quy định và hành vi hành chính\n\n"
            f"{_feedback_sentence(f, unit, month)}\n\n"
        )
    elif template == 1:
        body = (
            f"Tình hình, kết quả thực hiện công tác cải cách thủ tục hành chính tháng {month} năm {year}\n"
            f"(số liệu từ ngày {start} đến hết ngày {end})\n\n"
            f"Căn cứ chỉ đạo của Ủy ban nhân dân {city}, Ủy ban nhân dân {unit.title} báo cáo tình hình, "
            "kết quả thực hiện công tác cải cách thủ tục hành chính trong tháng như sau:\n\n"
            "1. Tình hình tiếp nhận, giải quyết hồ sơ thủ tục hành chính\n"
            f"- Tổng số hồ sơ: {number(f.total)} hồ sơ, trong đó: kỳ trước chuyển sang "
            f"{number(f.carried_over)} hồ sơ, tiếp nhận mới {number(f.received)} hồ sơ.\n"
            f"- Hồ sơ tiếp nhận trực tuyến: {number(f.online)}/{number(f.received)} hồ sơ, đạt tỷ lệ "
            f"{online_rate}; hồ sơ tiếp nhận trực tiếp: {number(f.direct)} hồ sơ; qua dịch vụ bưu chính "
            f"công ích: {number(f.postal)} hồ sơ.\n"
            f"- Kết quả giải quyết: giải quyết đúng hạn {number(f.on_time)} hồ sơ; giải quyết quá hạn "
            f"{number(f.resolved_late)} hồ sơ; đang giải quyết trong hạn {number(f.in_progress_on_time)} hồ "
            f"sơ; đang giải quyết quá hạn {number(f.in_progress_overdue)} hồ sơ.\n\n"
            "2. Cung cấp dịch vụ công trực tuyến\n"
            "- Số TTHC cung cấp dịch vụ công trực tuyến: "
            f"{number(f.procedures_full)} TTHC mức độ toàn trình, "
            f"{number(f.procedures_partial)} TTHC mức độ một phần.\n"
            f"- Tỷ lệ hồ sơ thanh toán trực tuyến đạt {percent(f.online_payment_rate)}.\n\n"
            "3. Số hóa hồ sơ, kết quả giải quyết thủ tục hành chính\n"
            f"- Tỷ lệ cấp kết quả giải quyết TTHC điện tử đạt {percent(f.e_result_rate)}; tỷ lệ số hóa hồ "
            f"sơ đạt {percent(f.digitised_rate)}; tỷ lệ khai thác, sử dụng lại dữ liệu số hóa đạt "
            f"{percent(f.reused_rate)}.\n\n"
            "4. Tiếp nhận, xử lý phản ánh, kiến nghị\n"
            f"- {_feedback_sentence(f, unit, month)}\n\n"
        )
    else:
        body = (
            f"Kết quả thực hiện công tác cải cách thủ tục hành chính tháng {month} năm {year}\n\n"
            f"Trong tháng {month} năm {year} (số liệu từ ngày {start} đến hết ngày {end}), Trung tâm Phục vụ "
            f"hành chính công {unit.title} đã tiếp nhận và giải quyết tổng số {number(f.total)} hồ sơ (kỳ "
            f"trước chuyển sang {number(f.carried_over)} hồ sơ; tiếp nhận mới {number(f.received)} hồ sơ). "
            f"Tổng số hồ sơ tiếp nhận trực tuyến {number(f.online)}/{number(f.received)} hồ sơ, đạt tỷ lệ "
            f"{online_rate}; tiếp nhận trực tiếp {number(f.direct)} hồ sơ, qua bưu chính công ích "
            f"{number(f.postal)} hồ sơ.\n\n"
            f"Kết quả: giải quyết đúng hạn {number(f.on_time)} hồ sơ, quá hạn {number(f.resolved_late)} hồ "
            f"sơ; đang giải quyết trong hạn {number(f.in_progress_on_time)} hồ sơ, đang giải quyết quá hạn "
            f"{number(f.in_progress_overdue)} hồ sơ. Tỷ lệ hồ sơ cấp "
            f"kết quả điện tử đạt {percent(f.e_result_rate)}, tỷ lệ số hóa hồ sơ đạt "
            f"{percent(f.digitised_rate)}, tỷ lệ tái sử dụng dữ liệu số hóa đạt {percent(f.reused_rate)}, "
            f"tỷ lệ hồ sơ thanh toán trực tuyến đạt {percent(f.online_payment_rate)}.\n\n"
            f"Về dịch vụ công trực tuyến, {unit.title} đã triển khai cung cấp được "
            f"{number(f.procedures_full)} TTHC mức độ toàn trình và "
            f"{number(f.procedures_partial)} TTHC mức độ một phần trên Cổng Dịch "
            "vụ công quốc gia.\n\n"
            f"{_feedback_sentence(f, unit, month)}\n\n"
        )
    closing = (
        "II. ĐÁNH GIÁ CHUNG\n\n"
        f"- Ủy ban nhân dân {unit.type} đã quan tâm, chỉ đạo thực hiện nâng cao hiệu quả giải quyết TTHC; "
        "phần lớn hồ sơ được giải quyết nhanh chóng ngay trong ngày và trước thời gian quy định như: "
        "chứng thực bản sao từ bản chính, đăng ký khai sinh, đăng ký khai tử, đăng ký kinh doanh hộ cá "
        "thể...\n\n"
        "III. NHIỆM VỤ TRỌNG TÂM CỦA THÁNG TIẾP THEO\n\n"
        "- Đẩy mạnh công tác tuyên truyền để nâng cao số lượng hồ sơ thực hiện dịch vụ công trực tuyến và "
        "hồ sơ thực hiện qua dịch vụ Bưu chính công ích.\n\n"
        "Trên đây là báo cáo tình hình, kết quả thực hiện công tác cải cách thủ tục hành chính "
        f"tháng {month} năm {year} trên địa bàn {unit.type}, Ủy ban nhân dân {unit.title} "
        "trân trọng báo cáo./.\n\n"
        f"Nơi nhận:{'':40}TM. ỦY BAN NHÂN DÂN\n"
        f"- Trung tâm PV HCC {city};{'':20}KT. CHỦ TỊCH\n"
        f"- Lưu: VT, HCC.{'':36}PHÓ CHỦ TỊCH\n\n"
        f"{'':50}{signer}\n"
    )
    return heading + body + closing


def error_records(errors: list[ReportError]) -> list[dict]:
    return [asdict(e) for e in errors]
