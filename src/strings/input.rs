//! Words for what can be wrong with an input file as a whole, and for the
//! encodings files were read in.

use super::{Lang, pick};
use crate::domain::input::{Malformed, TextEncoding};

pub fn malformed(m: &Malformed, l: Lang) -> String {
    match (m, l) {
        (Malformed::NotAFile, _) => pick(
            l,
            "不是普通文件（管道、设备、文件夹或指向它们的链接），未读取",
            "is not a regular file (a pipe, a device, a folder or a link to one); not read",
        )
        .into(),
        (Malformed::UnterminatedQuote, _) => pick(
            l,
            "此行开始的引号到文件末尾都没有闭合（其后各行会被并入一个单元格）",
            "a quote opened on this line is never closed (every line after it would become one cell)",
        )
        .into(),
        (Malformed::RecordTooLong { max_bytes }, Lang::Zh) => {
            format!("这一行（记录）超过 {} MiB，未读取", max_bytes / (1 << 20))
        }
        (Malformed::RecordTooLong { max_bytes }, Lang::En) => {
            format!("this line (record) is longer than {} MiB; not read", max_bytes / (1 << 20))
        }
        (Malformed::Undecodable(e), Lang::Zh) => format!("文件按 {} 编码读取，此行有无法解码的字节", e.name()),
        (Malformed::Undecodable(e), Lang::En) => {
            format!("the file reads as {}, but this line holds bytes that are not text in it", e.name())
        }
        (Malformed::DuplicateCode { first_line }, Lang::Zh) => format!("代码与第 {first_line} 行重复"),
        (Malformed::DuplicateCode { first_line }, Lang::En) => format!("the same code as line {first_line}"),
    }
}

pub fn scientific_code(l: Lang) -> &'static str {
    pick(
        l,
        "是科学计数法数字（如 4.30202E+11）：电子表格把代码当成数字，截掉了后几位。请在原始文件中把该列设为“文本”格式后再粘贴代码（或用 数据 → 自文本/CSV 导入，把该列类型设为“文本”），然后重新保存",
        "is a number in scientific notation (like 4.30202E+11): a spreadsheet turned the code into a number and cut its last digits. Set the column's format to Text before pasting the codes (or import with Data → From Text/CSV, column type Text), then save again",
    )
}

/// `visits.csv UTF-8, farms.csv GB18030, …`: which encoding each file was read in.
pub fn encodings(files: &[(String, TextEncoding)], l: Lang) -> String {
    let list: Vec<String> = files.iter().map(|(f, e)| format!("{f} {}", e.name())).collect();
    format!("{}{}", pick(l, "文件编码：", "encodings: "), list.join(pick(l, "，", ", ")))
}
