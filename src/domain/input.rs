//! What can be wrong with an input file as a whole (not with one value in
//! it): the file is not a file, its text is not text, its CSV is not
//! well-formed. Values, never words (`strings` renders them).

/// The text encoding a file was read in (detected, never guessed: a BOM,
/// or bytes that are not UTF-8).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum TextEncoding {
    /// UTF-8 without a BOM (plain ASCII reads as this too).
    #[default]
    Utf8,
    /// UTF-8 with a BOM (what Excel writes as "CSV UTF-8").
    Utf8Bom,
    /// UTF-16 little-endian (Excel's "Unicode text"), with or without BOM.
    Utf16Le,
    /// UTF-16 big-endian, with or without BOM.
    Utf16Be,
    /// GB18030 (a superset of GBK: Excel's "CSV" on Chinese Windows).
    Gb18030,
}

impl TextEncoding {
    /// The encoding's usual name, the same in every language.
    pub fn name(self) -> &'static str {
        match self {
            TextEncoding::Utf8 => "UTF-8",
            TextEncoding::Utf8Bom => "UTF-8 (BOM)",
            TextEncoding::Utf16Le => "UTF-16LE",
            TextEncoding::Utf16Be => "UTF-16BE",
            TextEncoding::Gb18030 => "GB18030",
        }
    }
}

/// Why a file, or its text from a line on, is refused.
#[derive(Debug, Clone, PartialEq)]
pub enum Malformed {
    /// A FIFO, a device, a folder, or a link to one: never read.
    NotAFile,
    /// A quoted cell opened on this line is never closed: the rest of the
    /// file would become one cell.
    UnterminatedQuote,
    /// One record (line, or quoted lines) longer than this many bytes.
    RecordTooLong { max_bytes: usize },
    /// Bytes that are not text in the file's encoding.
    Undecodable(TextEncoding),
    /// A code that an earlier line of the same file already gave.
    DuplicateCode { first_line: u64 },
}
