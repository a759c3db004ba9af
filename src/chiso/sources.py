"""The submission contract (DESIGN §3): which files a commune sends and their columns.

Every source has snake_case columns (CSV/JSON) and Vietnamese headers (XLSX). Landing maps
either spelling onto the snake_case name and keeps every value as delivered text; typing
happens in dbt staging, so a malformed value is quarantined with its row, never lost.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Column:
    name: str
    vietnamese: str
    kind: str  # text | timestamp | date | integer | numeric | amount (đồng) | boolean | enum
    required: bool = False
    enum: tuple[str, ...] = ()
    aliases: tuple[str, ...] = ()


@dataclass(frozen=True)
class Source:
    name: str  # file stem in a submission folder and raw table name
    description: str
    key: str
    columns: tuple[Column, ...] = field(default_factory=tuple)

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]

    def column(self, name: str) -> Column:
        return next(c for c in self.columns if c.name == name)


CHANNELS = ("online", "direct", "postal")
DOSSIER_STATUSES = ("in_progress", "completed", "returned", "refused", "withdrawn")
PAYMENT_METHODS = ("online", "cash", "transfer")
PAYMENT_STATUSES = ("success", "failed", "pending", "refunded")
FEEDBACK_STATUSES = ("in_progress", "handled", "refused")
RATINGS = ("satisfied", "unsatisfied", "none")
SERVICE_LEVELS = ("none", "partial", "full")

HO_SO = Source(
    name="ho_so",
    description="One dossier (hồ sơ) received or processed in the period",
    key="dossier_id",
    columns=(
        Column("dossier_id", "Mã hồ sơ", "text", required=True,
               aliases=("Số hồ sơ", "Mã số hồ sơ", "Mã HS")),
        Column("procedure_code", "Mã TTHC", "text", required=True,
               aliases=("Mã thủ tục", "Mã thủ tục hành chính", "Mã số TTHC")),
        Column("received_at", "Ngày tiếp nhận", "timestamp", required=True,
               aliases=("Ngày nhận hồ sơ", "Ngày tiếp nhận hồ sơ", "Thời gian tiếp nhận", "Ngày nhận")),
        Column("channel", "Hình thức nộp", "enum", required=True, enum=CHANNELS,
               aliases=("Hình thức tiếp nhận", "Hình thức nộp hồ sơ", "Kênh nộp", "Kênh tiếp nhận")),
        # blank when the procedure sets no appointment date: 2.1 then compares the elapsed
        # working days (less supplement time) with the catalogue's time_limit_days
        Column("due_at", "Ngày hẹn trả", "timestamp",
               aliases=("Ngày hẹn trả kết quả", "Ngày hẹn trả KQ", "Hẹn trả kết quả")),
        Column("completed_at", "Ngày hoàn thành", "timestamp",
               aliases=("Ngày hoàn thành xử lý", "Ngày xử lý xong")),
        Column("result_returned_at", "Ngày trả kết quả", "timestamp",
               aliases=("Ngày trả kết quả thực tế", "Ngày trả KQ")),
        Column("status", "Trạng thái", "enum", required=True, enum=DOSSIER_STATUSES,
               aliases=("Trạng thái hồ sơ", "Tình trạng hồ sơ")),
        Column("supplement_count", "Số lần bổ sung", "integer",
               aliases=("Số lần yêu cầu bổ sung",)),
        # working days the dossier waited for the applicant's supplement (clock stopped)
        Column("supplement_days", "Số ngày chờ bổ sung", "integer",
               aliases=("Thời gian chờ bổ sung", "Số ngày bổ sung")),
        Column("synced_to_national_portal", "Đồng bộ Cổng DVCQG", "boolean",
               aliases=("Đồng bộ DVCQG", "Đồng bộ lên Cổng DVCQG", "Đồng bộ Cổng DVC quốc gia")),
        Column("has_e_result", "Có kết quả điện tử", "boolean",
               aliases=("Kết quả điện tử", "Có KQ điện tử", "KQ điện tử", "Trả kết quả điện tử")),
        Column("digitised", "Đã số hóa", "boolean",
               aliases=("Số hóa hồ sơ", "Số hóa", "Số hóa thành phần hồ sơ")),
        Column("reused_data", "Tái sử dụng dữ liệu", "boolean",
               aliases=("Tái sử dụng dữ liệu số hóa", "Tái sử dụng")),
        Column("citizen_db_data", "Dữ liệu dân cư", "boolean",
               aliases=("Khai thác CSDL dân cư", "Khai thác dữ liệu dân cư", "CSDL dân cư")),
        Column("personal_storage_linked", "Kho dữ liệu cá nhân", "boolean",
               aliases=("Lưu kho dữ liệu cá nhân", "Kho DLCN")),
        Column("fee_amount", "Phí, lệ phí", "amount",
               aliases=("Số tiền phí, lệ phí", "Tổng phí, lệ phí")),
        Column("applicant_ref", "Mã người nộp", "text",
               aliases=("Mã định danh người nộp", "Số định danh người nộp")),
    ),
)

THANH_TOAN = Source(
    name="thanh_toan",
    description="One payment (thanh toán) of a fee or charge",
    key="payment_id",
    columns=(
        Column("payment_id", "Mã giao dịch", "text", required=True,
               aliases=("Mã thanh toán", "Số giao dịch", "Mã GD")),
        Column("dossier_id", "Mã hồ sơ", "text", required=True),
        Column("amount", "Số tiền", "amount", required=True,
               aliases=("Số tiền thanh toán",)),
        Column("method", "Hình thức thanh toán", "enum", required=True, enum=PAYMENT_METHODS,
               aliases=("Phương thức thanh toán", "Hình thức", "Phương thức")),
        Column("paid_at", "Ngày thanh toán", "timestamp", required=True,
               aliases=("Thời gian thanh toán", "Thời điểm thanh toán", "Ngày giao dịch")),
        Column("status", "Trạng thái", "enum", required=True, enum=PAYMENT_STATUSES,
               aliases=("Trạng thái thanh toán", "Trạng thái giao dịch")),
    ),
)

PAKN = Source(
    name="pakn",
    description="One feedback item (phản ánh, kiến nghị) from a citizen or business",
    key="feedback_id",
    columns=(
        Column("feedback_id", "Mã PAKN", "text", required=True,
               aliases=("Mã phản ánh", "Mã phản ánh, kiến nghị", "Số PAKN")),
        Column("dossier_id", "Mã hồ sơ", "text"),
        Column("received_at", "Ngày tiếp nhận", "timestamp", required=True,
               aliases=("Ngày nhận",)),
        Column("due_at", "Hạn xử lý", "timestamp", required=True,
               aliases=("Hạn giải quyết", "Hạn trả lời")),
        Column("handled_at", "Ngày xử lý", "timestamp",
               aliases=("Ngày giải quyết",)),
        # optional steps with their own limits (5.2): a request for more information
        # within 5 working days of reception, the answer published within 2 of handling
        Column("supplement_requested_at", "Ngày yêu cầu bổ sung", "timestamp"),
        Column("published_at", "Ngày công khai", "timestamp",
               aliases=("Ngày công khai kết quả", "Ngày đăng tải")),
        Column("status", "Trạng thái", "enum", required=True, enum=FEEDBACK_STATUSES,
               aliases=("Trạng thái xử lý", "Trạng thái PAKN")),
        Column("rating", "Đánh giá", "enum", enum=RATINGS,
               aliases=("Mức độ hài lòng",)),
        Column("repeated", "Phản ánh lặp lại", "boolean",
               aliases=("Lặp lại", "PAKN lặp lại")),
    ),
)

DANH_MUC_TTHC = Source(
    name="danh_muc_tthc",
    description="One administrative procedure (TTHC) under the unit's authority",
    key="procedure_code",
    columns=(
        Column("procedure_code", "Mã TTHC", "text", required=True,
               aliases=("Mã thủ tục", "Mã thủ tục hành chính", "Mã số TTHC")),
        Column("name", "Tên TTHC", "text", required=True,
               aliases=("Tên thủ tục", "Tên thủ tục hành chính")),
        Column("service_level", "Mức độ DVCTT", "enum", required=True, enum=SERVICE_LEVELS,
               aliases=("Mức độ dịch vụ công trực tuyến", "Mức độ DVC", "Mức độ")),
        Column("has_fee", "Có phí, lệ phí", "boolean",
               aliases=("Có thu phí, lệ phí", "Có phí")),
        Column("returns_paper_result", "Trả kết quả giấy", "boolean",
               aliases=("Có kết quả giấy", "Kết quả bản giấy")),
        Column("published_on_time", "Công bố đúng hạn", "boolean"),
        Column("publicised_on_time", "Công khai đúng hạn", "boolean"),
        Column("publication_complete", "Công khai đầy đủ", "boolean"),
        Column("e_certified_copy", "Chứng thực bản sao điện tử", "boolean",
               aliases=("Chứng thực điện tử",)),
        # the legal maximum processing time, in working days (2.1 without an appointment date)
        Column("time_limit_days", "Thời hạn giải quyết", "integer",
               aliases=("Thời gian giải quyết", "Số ngày giải quyết")),
    ),
)

SOURCES: dict[str, Source] = {s.name: s for s in (HO_SO, THANH_TOAN, PAKN, DANH_MUC_TTHC)}
TABULAR_EXTENSIONS = (".csv", ".xlsx", ".json")
REPORT_STEM = "bao_cao"
REPORT_EXTENSIONS = (".txt", ".md", ".docx", ".pdf")

# Values an XLSX form may carry in Vietnamese, mapped onto the contract's enum values.
VIETNAMESE_VALUES: dict[str, str] = {
    "truc tuyen": "online",
    "truc tiep": "direct",
    "buu chinh": "postal",
    "buu chinh cong ich": "postal",
    "dang xu ly": "in_progress",
    "dang giai quyet": "in_progress",
    "da xu ly xong": "completed",
    "hoan thanh": "completed",
    "da tra ket qua": "returned",
    "tu choi": "refused",
    "rut ho so": "withdrawn",
    "da rut": "withdrawn",
    "tien mat": "cash",
    "chuyen khoan": "transfer",
    "thanh cong": "success",
    "that bai": "failed",
    "cho thanh toan": "pending",
    "hoan tien": "refunded",
    "da xu ly": "handled",
    "hai long": "satisfied",
    "khong hai long": "unsatisfied",
    "chua danh gia": "none",
    "khong": "false",
    "co": "true",
    "toan trinh": "full",
    "mot phan": "partial",
    "khong co": "none",
}


# Landing folds every header and every distinct enum value of every file: the same few
# hundred texts, so a cache turns most calls into a lookup.
@functools.lru_cache(maxsize=65536)
def fold(text: str) -> str:
    """Lower-case, strip diacritics (đ → d) and collapse whitespace: 'Hình thức nộp' → 'hinh thuc nop'."""
    text = unicodedata.normalize("NFD", text.replace("đ", "d").replace("Đ", "D"))
    text = "".join(ch for ch in text if unicodedata.category(ch) != "Mn")
    return re.sub(r"\s+", " ", text).strip().lower()


@functools.cache
def header_lookup(source: Source, aliases: bool = True) -> dict[str, str]:
    """Every accepted header spelling (folded) → contract column name; without `aliases`,
    only the contract's own two (snake_case and Vietnamese)."""
    lookup: dict[str, str] = {}
    for col in source.columns:
        for spelling in (col.name, col.vietnamese, *(col.aliases if aliases else ())):
            lookup[fold(spelling)] = col.name
            lookup[fold(spelling).replace(" ", "_")] = col.name
    return lookup
