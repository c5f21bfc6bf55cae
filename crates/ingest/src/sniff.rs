//! Opening text files: hashing while reading, BOM and encoding detection, binary detection,
//! and streaming transcoding to UTF-8.

use std::fs::File;
use std::io::{self, Read};
use std::path::Path;
use std::sync::{Arc, Mutex};

use sha2::{Digest, Sha256};

use crate::IngestError;
use crate::mapping::Encoding;

/// Shared SHA-256 state and byte count of a file being read. Without a hasher (the caller
/// already knows the file's digest, [`crate::ReadOptions::file_sha256`]) only bytes are counted.
#[derive(Clone)]
pub(crate) struct Tally(Arc<Mutex<(Option<Sha256>, u64)>>);

impl Tally {
    pub(crate) fn new(hash: bool) -> Tally {
        Tally(Arc::new(Mutex::new((hash.then(Sha256::new), 0))))
    }

    /// The digest in lower-case hex; empty when not hashing.
    pub(crate) fn hex(&self) -> String {
        match self.0.lock().expect("tally").0.clone() {
            Some(h) => h.finalize().iter().map(|b| format!("{b:02x}")).collect(),
            None => String::new(),
        }
    }

    pub(crate) fn bytes(&self) -> u64 {
        self.0.lock().expect("tally").1
    }
}

/// A reader that feeds everything it reads into a [`Tally`].
pub(crate) struct HashingReader<R> {
    inner: R,
    tally: Tally,
}

impl<R: Read> Read for HashingReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        let mut t = self.tally.0.lock().expect("tally");
        if let Some(h) = &mut t.0 {
            h.update(&buf[..n]);
        }
        t.1 += n as u64;
        Ok(n)
    }
}

/// Transcodes a byte stream to UTF-8 as it is read.
pub(crate) struct DecodeReader<R> {
    inner: R,
    decoder: encoding_rs::Decoder,
    inbuf: Vec<u8>,
    in_start: usize,
    in_end: usize,
    eof: bool,
    out: Vec<u8>,
    out_start: usize,
    out_end: usize,
    done: bool,
}

impl<R: Read> DecodeReader<R> {
    pub(crate) fn new(inner: R, encoding: &'static encoding_rs::Encoding) -> Self {
        DecodeReader {
            inner,
            decoder: encoding.new_decoder_without_bom_handling(),
            inbuf: vec![0; 64 * 1024],
            in_start: 0,
            in_end: 0,
            eof: false,
            out: vec![0; 3 * 64 * 1024 + 16],
            out_start: 0,
            out_end: 0,
            done: false,
        }
    }
}

impl<R: Read> Read for DecodeReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        loop {
            if self.out_start < self.out_end {
                let n = (self.out_end - self.out_start).min(buf.len());
                buf[..n].copy_from_slice(&self.out[self.out_start..self.out_start + n]);
                self.out_start += n;
                return Ok(n);
            }
            if self.done {
                return Ok(0);
            }
            if self.in_start == self.in_end && !self.eof {
                let n = self.inner.read(&mut self.inbuf)?;
                self.in_start = 0;
                self.in_end = n;
                if n == 0 {
                    self.eof = true;
                }
            }
            let (_, read, written, _) = self.decoder.decode_to_utf8(
                &self.inbuf[self.in_start..self.in_end],
                &mut self.out,
                self.eof,
            );
            self.in_start += read;
            self.out_start = 0;
            self.out_end = written;
            if self.eof && self.in_start == self.in_end {
                self.done = true;
            }
        }
    }
}

/// What a text file turned out to be.
pub(crate) struct Opened {
    /// The stream, positioned after any BOM, UTF-8 unless `fallback` says otherwise.
    pub reader: Box<dyn Read + Send>,
    /// Name of the encoding used.
    pub encoding: &'static str,
    /// The stream is undecoded bytes that should be UTF-8; a field that is not is read as
    /// Windows-1252 with a warning (auto mode) instead of being rejected (utf-8 mode).
    pub fallback_1252: bool,
    /// Whether the bytes are checked as UTF-8 at all (false when transcoded).
    pub raw_utf8: bool,
    pub tally: Tally,
    pub size: u64,
}

const SNIFF: usize = 1 << 20;

/// Opens a text file: rejects empty and binary files, detects the encoding.
/// `hash`: whether to SHA-256 the bytes (not when the caller already has the digest).
pub(crate) fn open_text(
    path: &Path,
    file: &str,
    declared: Encoding,
    hash: bool,
) -> Result<Opened, IngestError> {
    let f = File::open(path).map_err(crate::io_err(file))?;
    let size = f.metadata().map(|m| m.len()).unwrap_or(0);
    let tally = Tally::new(hash);
    let mut hr = HashingReader {
        inner: f,
        tally: tally.clone(),
    };
    let mut head = Vec::with_capacity(SNIFF.min(size as usize + 1));
    (&mut hr)
        .take(SNIFF as u64)
        .read_to_end(&mut head)
        .map_err(crate::io_err(file))?;
    let (bom, bom_len): (Option<&'static encoding_rs::Encoding>, usize) =
        match encoding_rs::Encoding::for_bom(&head) {
            Some((e, n)) => (Some(e), n),
            None => (None, 0),
        };
    let body = &head[bom_len..];
    if body.iter().all(|b| b.is_ascii_whitespace()) && head.len() < SNIFF {
        return Err(IngestError::Empty {
            file: file.to_owned(),
        });
    }
    if bom.is_none() || bom == Some(encoding_rs::UTF_8) {
        if let Some((reason_id, reason)) = binary_reason(body) {
            return Err(IngestError::NotText {
                file: file.to_owned(),
                reason,
                reason_id,
            });
        }
    }
    let chosen: Option<&'static encoding_rs::Encoding> = match (bom, declared) {
        (Some(e), _) => Some(e),
        (None, Encoding::Utf8) => Some(encoding_rs::UTF_8),
        (None, Encoding::Windows1252) => Some(encoding_rs::WINDOWS_1252),
        (None, Encoding::Auto) => {
            // Valid UTF-8 up to a possibly cut last character?
            let ok = match std::str::from_utf8(body) {
                Ok(_) => true,
                Err(e) => e.error_len().is_none() && head.len() == SNIFF,
            };
            if ok || body.is_ascii() {
                None // UTF-8 with fallback
            } else {
                Some(encoding_rs::WINDOWS_1252)
            }
        }
    };
    let rest = std::io::Cursor::new(head[bom_len..].to_vec()).chain(hr);
    let (reader, encoding, fallback, raw_utf8): (Box<dyn Read + Send>, &'static str, bool, bool) =
        match chosen {
            None => (Box::new(rest), "utf-8", true, true),
            Some(e) if e == encoding_rs::UTF_8 => (Box::new(rest), "utf-8", false, true),
            Some(e) => (
                Box::new(DecodeReader::new(rest, e)),
                if e == encoding_rs::WINDOWS_1252 {
                    "windows-1252"
                } else if e == encoding_rs::UTF_16LE {
                    "utf-16le"
                } else {
                    "utf-16be"
                },
                false,
                false,
            ),
        };
    Ok(Opened {
        reader,
        encoding,
        fallback_1252: fallback,
        raw_utf8,
        tally,
        size,
    })
}

/// Why the start of a file does not look like text, if it does not: (Indonesian, English).
fn binary_reason(b: &[u8]) -> Option<(String, String)> {
    if b.starts_with(b"PK\x03\x04") {
        return Some((
            "ini wadah ZIP (buku kerja XLSX?), bukan berkas teks; pakai pemetaan dengan kind = \"xlsx\" atau ekspor sebagai CSV".into(),
            "this is a ZIP container (an XLSX workbook?), not a text file; use a mapping with kind = \"xlsx\" or export as CSV".into(),
        ));
    }
    if b.starts_with(&[0xD0, 0xCF, 0x11, 0xE0]) {
        return Some((
            "ini buku kerja Excel lama (.xls); simpan sebagai .xlsx atau CSV".into(),
            "this is an old Excel .xls workbook; save it as .xlsx or CSV".into(),
        ));
    }
    let sample = &b[..b.len().min(64 * 1024)];
    let bad = sample
        .iter()
        .filter(|&&c| matches!(c, 0..=8 | 0x0E..=0x1F | 0x7F))
        .count();
    if !sample.is_empty() && bad * 20 > sample.len() {
        let n = sample.len();
        return Some((
            format!(
                "berkas ini tidak tampak seperti teks ({bad} bita kendali dalam {n} bita pertama); mungkin biner atau rusak"
            ),
            format!(
                "the file does not look like text ({bad} control bytes in the first {n} bytes); it may be binary or damaged"
            ),
        ));
    }
    None
}

/// Hashes a whole file (for formats read by a library that opens the file itself).
pub(crate) fn hash_file(path: &Path, file: &str) -> Result<(String, u64), IngestError> {
    let f = File::open(path).map_err(crate::io_err(file))?;
    let tally = Tally::new(true);
    let mut hr = HashingReader {
        inner: f,
        tally: tally.clone(),
    };
    io::copy(&mut hr, &mut io::sink()).map_err(crate::io_err(file))?;
    Ok((tally.hex(), tally.bytes()))
}
