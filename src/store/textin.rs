//! Text files from people, read with bounded memory: the encoding they were
//! saved in ([`Decoded`]) and a guard over their CSV records ([`Guard`]).
//!
//! Encodings: UTF-8 with or without BOM is passed through untouched (no
//! transcoding, the common case stays cheap); UTF-16 (BOM, or the zero
//! bytes of ASCII text without one) and GB18030 (a file whose first
//! non-ASCII bytes are not UTF-8; everything before them was ASCII, which
//! reads the same in both) are decoded to UTF-8 in a stream with
//! `encoding_rs`. Bytes that are not text in the chosen encoding stop the
//! read with an error, never a replacement character.
//!
//! The guard follows the CSV quoting the way the `csv` crate parses it, so
//! that a quote never closed, or a record longer than a bound, stops the
//! read with the line where the trouble starts, before the record is held
//! in memory whole.

use std::io::{self, Read};

use encoding_rs::{DecoderResult, GB18030, UTF_16BE, UTF_16LE};

use crate::domain::input::{Malformed, TextEncoding};

/// Longest record (a line, or the lines of one quoted cell) read.
pub const MAX_RECORD_BYTES: usize = 1 << 20;
/// Input buffer of the decoder.
const RAW_BUF: usize = 1 << 16;
/// Bytes looked at, from the first non-ASCII byte, to tell UTF-8 from GB18030.
const SNIFF: usize = 4096;
/// Longest header line looked at to find the delimiter.
const HEADER_PEEK: usize = 1 << 16;

/// Bytes that are not text in the file's encoding (the line is added by the guard).
#[derive(Debug)]
struct DecodeError(TextEncoding);

impl std::fmt::Display for DecodeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "bytes that are not {} text", self.0.name())
    }
}

impl std::error::Error for DecodeError {}

/// A file that is not well-formed from `line` on, carried through `csv` as
/// the payload of an `io::Error`.
#[derive(Debug, Clone, PartialEq)]
pub struct InputError {
    pub line: u64,
    pub why: Malformed,
}

impl std::fmt::Display for InputError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "line {}: {:?}", self.line, self.why)
    }
}

impl std::error::Error for InputError {}

impl InputError {
    /// The input error an `io::Error` carries, if any.
    pub fn of(e: &io::Error) -> Option<&InputError> {
        e.get_ref().and_then(|x| x.downcast_ref::<InputError>())
    }
}

enum Mode {
    /// Only ASCII seen so far: passed through, the encoding not yet known.
    Ascii,
    /// UTF-8: passed through.
    Utf8,
    /// Decoded to UTF-8.
    Decode(Box<encoding_rs::Decoder>),
}

/// A reader of text in any accepted encoding, giving UTF-8.
pub struct Decoded<R> {
    inner: R,
    raw: Box<[u8]>,
    pos: usize,
    end: usize,
    eof: bool,
    started: bool,
    /// The decoder has been told the input ended.
    flushed: bool,
    mode: Mode,
    encoding: TextEncoding,
    /// Decoded bytes not yet handed out (the header peeked at, or a decoder's output).
    out: Vec<u8>,
    out_pos: usize,
    /// An error to give once the bytes before it are handed out.
    pending: Option<io::Error>,
}

impl<R: Read> Decoded<R> {
    pub fn new(inner: R) -> Self {
        Decoded {
            inner,
            raw: vec![0; RAW_BUF].into_boxed_slice(),
            pos: 0,
            end: 0,
            eof: false,
            started: false,
            flushed: false,
            mode: Mode::Ascii,
            encoding: TextEncoding::Utf8,
            out: Vec::new(),
            out_pos: 0,
            pending: None,
        }
    }

    /// The encoding read (final once the file is read; ASCII reads as UTF-8).
    pub fn encoding(&self) -> TextEncoding {
        self.encoding
    }

    /// Makes at least `want` raw bytes available (fewer at the end of the input).
    fn fill(&mut self, want: usize) -> io::Result<()> {
        if self.end - self.pos >= want || self.eof {
            return Ok(());
        }
        self.raw.copy_within(self.pos..self.end, 0);
        self.end -= self.pos;
        self.pos = 0;
        while self.end < want && !self.eof {
            match self.inner.read(&mut self.raw[self.end..]) {
                Ok(0) => self.eof = true,
                Ok(n) => self.end += n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        Ok(())
    }

    fn start(&mut self) -> io::Result<()> {
        self.started = true;
        self.fill(4)?;
        let head = &self.raw[self.pos..self.end];
        let (skip, mode, encoding) = match head {
            [0xef, 0xbb, 0xbf, ..] => (3, Mode::Utf8, TextEncoding::Utf8Bom),
            [0xff, 0xfe, ..] => (2, decoder(UTF_16LE), TextEncoding::Utf16Le),
            [0xfe, 0xff, ..] => (2, decoder(UTF_16BE), TextEncoding::Utf16Be),
            // ASCII text in UTF-16 without a BOM: every other byte is zero
            // (a zero byte is never in a CSV file of any other encoding).
            [a, 0, ..] if *a != 0 => (0, decoder(UTF_16LE), TextEncoding::Utf16Le),
            [0, b, ..] if *b != 0 => (0, decoder(UTF_16BE), TextEncoding::Utf16Be),
            _ => (0, Mode::Ascii, TextEncoding::Utf8),
        };
        self.pos += skip;
        self.mode = mode;
        self.encoding = encoding;
        Ok(())
    }

    /// At the first non-ASCII byte: UTF-8 if the rest of its line reads as
    /// UTF-8 (a line of Chinese in GB18030 almost never does), else GB18030
    /// (the ASCII before it reads the same in both). A later byte that is
    /// not UTF-8 is then an error of a UTF-8 file, never a switch.
    fn decide(&mut self) -> io::Result<()> {
        self.fill(SNIFF)?;
        let window = &self.raw[self.pos..self.end];
        let valid = match std::str::from_utf8(window) {
            Ok(_) => window.len(),
            // Cut in the middle of a character by the window's end.
            Err(e) if e.error_len().is_none() && !self.eof => window.len(),
            Err(e) => e.valid_up_to(),
        };
        let line_end = memchr::memchr(b'\n', window).unwrap_or(window.len());
        let is_utf8 = valid >= line_end;
        if is_utf8 {
            self.mode = Mode::Utf8;
        } else {
            self.mode = decoder(GB18030);
            self.encoding = TextEncoding::Gb18030;
        }
        Ok(())
    }

    /// Reads decoded bytes, not looking at `out`.
    fn read_text(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if !self.started {
            self.start()?;
        }
        loop {
            if self.out_pos < self.out.len() {
                let n = buf.len().min(self.out.len() - self.out_pos);
                buf[..n].copy_from_slice(&self.out[self.out_pos..self.out_pos + n]);
                self.out_pos += n;
                return Ok(n);
            }
            if let Some(e) = self.pending.take() {
                return Err(e);
            }
            if self.pos == self.end && !self.eof {
                self.fill(1)?;
            }
            let avail = &self.raw[self.pos..self.end];
            match &mut self.mode {
                Mode::Utf8 | Mode::Ascii if avail.is_empty() => return Ok(0),
                Mode::Utf8 => {
                    let n = buf.len().min(avail.len());
                    buf[..n].copy_from_slice(&avail[..n]);
                    self.pos += n;
                    return Ok(n);
                }
                // `is_ascii` first: it checks a word at a time.
                Mode::Ascii => match if avail.is_ascii() { None } else { avail.iter().position(|b| !b.is_ascii()) } {
                    Some(0) => self.decide()?,
                    p => {
                        let n = buf.len().min(p.unwrap_or(avail.len()));
                        buf[..n].copy_from_slice(&avail[..n]);
                        self.pos += n;
                        return Ok(n);
                    }
                },
                Mode::Decode(d) => {
                    if avail.is_empty() && self.flushed {
                        return Ok(0);
                    }
                    let last = self.eof;
                    self.out.clear();
                    self.out_pos = 0;
                    self.out.resize(RAW_BUF * 3 / 2 + 16, 0);
                    let (result, read, written) = d.decode_to_utf8_without_replacement(avail, &mut self.out, last);
                    self.pos += read;
                    self.out.truncate(written);
                    match result {
                        DecoderResult::InputEmpty => self.flushed = last,
                        DecoderResult::OutputFull => {}
                        DecoderResult::Malformed(..) => {
                            let e = DecodeError(self.encoding);
                            self.pending = Some(io::Error::new(io::ErrorKind::InvalidData, e));
                        }
                    }
                }
            }
        }
    }

    /// The first line of the decoded text (up to a bound), without
    /// consuming it: to find the delimiter. An error is kept for the read.
    pub fn peek_line(&mut self) -> &[u8] {
        let mut peeked = Vec::new();
        let mut chunk = [0u8; 4096];
        while !peeked.contains(&b'\n') && peeked.len() < HEADER_PEEK {
            match self.read_text(&mut chunk) {
                Ok(0) => break,
                Ok(n) => peeked.extend_from_slice(&chunk[..n]),
                Err(e) => {
                    // Given again, after the peeked bytes, by the next read.
                    self.pending = Some(e);
                    break;
                }
            }
        }
        // What was peeked goes before anything still buffered.
        peeked.extend_from_slice(&self.out[self.out_pos..]);
        self.out = peeked;
        self.out_pos = 0;
        let end = self.out.iter().position(|b| *b == b'\n').unwrap_or(self.out.len());
        &self.out[..end]
    }
}

fn decoder(e: &'static encoding_rs::Encoding) -> Mode {
    Mode::Decode(Box::new(e.new_decoder_without_bom_handling()))
}

impl<R: Read> Read for Decoded<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if buf.is_empty() {
            return Ok(0);
        }
        self.read_text(buf)
    }
}

/// The delimiter of a file whose first line is `header`: a tab when the
/// header has tabs and no commas (Excel's "Unicode text"), else a comma.
pub fn delimiter(header: &[u8]) -> u8 {
    if header.contains(&b'\t') && !header.contains(&b',') { b'\t' } else { b',' }
}

/// Where the CSV parser stands (as `csv_core` parses with default settings).
#[derive(Clone, Copy, PartialEq, Eq)]
enum State {
    /// At the start of a field (or record).
    Start,
    /// In an unquoted field: quotes are plain characters.
    Field,
    /// In a quoted field.
    Quoted,
    /// A quote in a quoted field: the end, or the first of `""`.
    QuoteInQuoted,
}

/// Follows the records of CSV text and stops the read at a record longer
/// than the bound or at a quote never closed, with the line.
pub struct Guard<R> {
    inner: R,
    delim: u8,
    max: usize,
    state: State,
    /// The current line (1 = the first), counting `\n` as `csv` does.
    line: u64,
    /// Line and offset where the current record starts.
    record_line: u64,
    record_start: u64,
    /// Bytes seen.
    offset: u64,
    /// Line of the quote that opened the current quoted field.
    quote_line: u64,
    /// The first line of a record over the bound that ended in the last chunk.
    too_long: Option<u64>,
    done: bool,
}

impl<R: Read> Guard<R> {
    pub fn new(inner: R, delim: u8, max: usize) -> Self {
        Guard {
            inner,
            delim,
            max,
            state: State::Start,
            line: 1,
            record_line: 1,
            record_start: 0,
            offset: 0,
            quote_line: 1,
            too_long: None,
            done: false,
        }
    }

    pub fn get_ref(&self) -> &R {
        &self.inner
    }

    fn fail(&mut self, line: u64, why: Malformed) -> io::Error {
        self.done = true;
        io::Error::new(io::ErrorKind::InvalidData, InputError { line, why })
    }

    fn scan(&mut self, bytes: &[u8]) {
        let d = self.delim;
        let end_record = |g: &mut Self, i: usize, newline: bool| {
            if g.offset + i as u64 - g.record_start > g.max as u64 {
                g.too_long.get_or_insert(g.record_line);
            }
            if newline {
                g.line += 1;
            }
            g.state = State::Start;
            g.record_line = g.line;
            g.record_start = g.offset + i as u64 + 1;
        };
        let mut i = 0;
        while i < bytes.len() {
            let b = bytes[i];
            match self.state {
                State::Quoted => {
                    // The common long run: skip to the next quote or line break.
                    match memchr::memchr2(b'"', b'\n', &bytes[i..]) {
                        None => break,
                        Some(k) => {
                            i += k;
                            if bytes[i] == b'"' {
                                self.state = State::QuoteInQuoted;
                            } else {
                                self.line += 1;
                            }
                        }
                    }
                }
                State::Field => match memchr::memchr3(d, b'\n', b'\r', &bytes[i..]) {
                    None => break,
                    Some(k) => {
                        i += k;
                        match bytes[i] {
                            b'\n' => end_record(self, i, true),
                            b'\r' => end_record(self, i, false),
                            _ => self.state = State::Start,
                        }
                    }
                },
                State::Start | State::QuoteInQuoted => {
                    let was = self.state;
                    match b {
                        b'"' if was == State::Start => {
                            self.state = State::Quoted;
                            self.quote_line = self.line;
                        }
                        b'"' => self.state = State::Quoted,
                        b'\n' => end_record(self, i, true),
                        b'\r' => end_record(self, i, false),
                        _ if b == d => self.state = State::Start,
                        _ => self.state = State::Field,
                    }
                }
            }
            i += 1;
        }
        self.offset += bytes.len() as u64;
    }
}

impl<R: Read> Read for Guard<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.done {
            return Ok(0);
        }
        let n = match self.inner.read(buf) {
            Ok(n) => n,
            Err(e) => {
                let Some(DecodeError(enc)) = e.get_ref().and_then(|x| x.downcast_ref::<DecodeError>()) else {
                    return Err(e);
                };
                let enc = *enc;
                return Err(self.fail(self.line, Malformed::Undecodable(enc)));
            }
        };
        if n == 0 {
            if self.state == State::Quoted {
                return Err(self.fail(self.quote_line, Malformed::UnterminatedQuote));
            }
            return Ok(0);
        }
        self.scan(&buf[..n]);
        let over = self.too_long.or((self.offset - self.record_start > self.max as u64).then_some(self.record_line));
        if let Some(line) = over {
            return Err(self.fail(line, Malformed::RecordTooLong { max_bytes: self.max }));
        }
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decode(bytes: &[u8]) -> (Result<String, String>, TextEncoding) {
        let mut d = Decoded::new(bytes);
        let mut out = Vec::new();
        let r = d.read_to_end(&mut out).map(|_| String::from_utf8(out).unwrap()).map_err(|e| e.to_string());
        (r, d.encoding())
    }

    fn utf16(s: &str, le: bool, bom: bool) -> Vec<u8> {
        let mut out = Vec::new();
        if bom {
            out.extend_from_slice(if le { &[0xff, 0xfe] } else { &[0xfe, 0xff] });
        }
        for u in s.encode_utf16() {
            out.extend_from_slice(&if le { u.to_le_bytes() } else { u.to_be_bytes() });
        }
        out
    }

    #[test]
    fn each_encoding_reads_as_the_same_text() {
        let text = "code\tname\n430202001201\t仙庾村\n";
        let (gbk, _, _) = GB18030.encode(text);
        for (bytes, enc) in [
            (text.as_bytes().to_vec(), TextEncoding::Utf8),
            ([&[0xef, 0xbb, 0xbf][..], text.as_bytes()].concat(), TextEncoding::Utf8Bom),
            (utf16(text, true, true), TextEncoding::Utf16Le),
            (utf16(text, false, true), TextEncoding::Utf16Be),
            (utf16(text, true, false), TextEncoding::Utf16Le),
            (gbk.to_vec(), TextEncoding::Gb18030),
        ] {
            assert_eq!(decode(&bytes), (Ok(text.to_string()), enc), "{enc:?}");
        }
        assert_eq!(decode(b"a,b\n"), (Ok("a,b\n".into()), TextEncoding::Utf8));
        assert_eq!(decode(b""), (Ok(String::new()), TextEncoding::Utf8));
    }

    #[test]
    fn a_long_ascii_start_then_gb18030_decodes_from_there() {
        let text = format!("{}仙庾村\n", "a,".repeat(100_000));
        let (gbk, _, _) = GB18030.encode(&text);
        assert_eq!(decode(&gbk), (Ok(text), TextEncoding::Gb18030));
    }

    #[test]
    fn a_utf8_file_with_a_bad_byte_later_stays_utf8() {
        let mut bytes = "a,仙庾村\nb,".as_bytes().to_vec();
        bytes.push(0xff);
        let mut d = Decoded::new(&bytes[..]);
        let mut out = Vec::new();
        d.read_to_end(&mut out).unwrap();
        assert_eq!((out, d.encoding()), (bytes, TextEncoding::Utf8));
    }

    #[test]
    fn bytes_that_are_not_text_are_an_error_never_a_replacement() {
        let mut bytes = utf16("a,b\n", true, true);
        bytes.extend_from_slice(&[0x00, 0xdc]); // a lone low surrogate
        assert!(decode(&bytes).0.is_err());
        let mut gbk = GB18030.encode("仙庾村\n").0.to_vec();
        gbk.push(0x81); // a lead byte at the end
        assert!(decode(&gbk).0.is_err());
    }

    #[test]
    fn the_header_is_peeked_without_being_consumed() {
        let bytes = utf16("a\tb\nc\td\n", true, true);
        let mut d = Decoded::new(&bytes[..]);
        assert_eq!(d.peek_line(), b"a\tb");
        assert_eq!(delimiter(d.peek_line()), b'\t');
        let mut out = String::new();
        d.read_to_string(&mut out).unwrap();
        assert_eq!(out, "a\tb\nc\td\n");
        assert_eq!(delimiter(b"a,b\tc"), b',');
    }

    fn guard(text: &str, max: usize) -> Result<String, InputError> {
        let mut g = Guard::new(text.as_bytes(), b',', max);
        let mut out = String::new();
        // Small reads, so that states cross the chunk boundaries.
        let mut buf = [0u8; 3];
        loop {
            match g.read(&mut buf) {
                Ok(0) => return Ok(out),
                Ok(n) => out.push_str(std::str::from_utf8(&buf[..n]).unwrap()),
                Err(e) => return Err(InputError::of(&e).unwrap().clone()),
            }
        }
    }

    #[test]
    fn a_quote_never_closed_is_an_error_at_its_line() {
        let e = guard("a,b\n1,\"x\n2,y\n3,z\n", 100).unwrap_err();
        assert_eq!(e, InputError { line: 2, why: Malformed::UnterminatedQuote });
        // Closed quotes, doubled quotes, multi-line cells and stray quotes inside a field are fine.
        for ok in ["a,b\n1,\"x\ny\"\n", "a,\"b\"\"c\"\n", "a,b\"c\n2,3\n", "\"a\"\"\",b\n", "a,\"\"\n"] {
            assert_eq!(guard(ok, 100).as_deref(), Ok(ok));
        }
        let e = guard("a,b\n1,\"x\"\"\n2\n", 100).unwrap_err();
        assert_eq!(e.line, 2);
    }

    #[test]
    fn a_record_over_the_bound_is_an_error_at_its_first_line() {
        let max = 20;
        assert!(guard(&format!("a\n{}\n", "x".repeat(max)), max).is_ok());
        let e = guard(&format!("a\nb\n{}\n", "x".repeat(max + 1)), max).unwrap_err();
        assert_eq!(e, InputError { line: 3, why: Malformed::RecordTooLong { max_bytes: max } });
        // Many short lines inside one quoted cell are one record.
        let e = guard(&format!("a\n\"{}\"\n", "x\n".repeat(max)), max).unwrap_err();
        assert_eq!(e.line, 2);
    }
}
