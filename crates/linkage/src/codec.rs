//! A small binary codec for the in-memory registries, so a validation run can reload what an
//! earlier run built instead of rebuilding it (the engine's registry snapshot).
//!
//! Values are fixed-size and little-endian; a slice is its length (`u64`) followed by its
//! items. Encoding and decoding stream through `std::io::Write` / `Read` in 64 KiB pieces, so
//! neither side holds a second copy of a large array. The codec does no I/O of its own: the
//! caller decides where the bytes go (the engine writes a file beside the store).
//!
//! Decoding is defensive: a length larger than the remaining input allows, or a value outside
//! its domain, is an `InvalidData` error, never a huge allocation or a panic. Integrity of the
//! whole stream (a flipped bit inside a valid-looking array) is the caller's business: the
//! engine checks a SHA-256 over every byte.

use std::io::{self, Read, Write};

/// A value with a fixed encoded size.
pub trait Fixed: Sized {
    /// Encoded size in bytes.
    const SIZE: usize;
    /// Writes the value into `out` (exactly `SIZE` bytes).
    fn put(&self, out: &mut [u8]);
    /// Reads a value from `b` (exactly `SIZE` bytes); `None` when the bytes are not a valid
    /// value.
    fn get(b: &[u8]) -> Option<Self>;
}

macro_rules! fixed_int {
    ($($t:ty),*) => {$(
        impl Fixed for $t {
            const SIZE: usize = std::mem::size_of::<$t>();
            fn put(&self, out: &mut [u8]) {
                out.copy_from_slice(&self.to_le_bytes());
            }
            fn get(b: &[u8]) -> Option<Self> {
                Some(<$t>::from_le_bytes(b.try_into().ok()?))
            }
        }
    )*};
}
fixed_int!(u8, u16, u32, u64, i32, i64);

impl<A: Fixed, B: Fixed> Fixed for (A, B) {
    const SIZE: usize = A::SIZE + B::SIZE;
    fn put(&self, out: &mut [u8]) {
        self.0.put(&mut out[..A::SIZE]);
        self.1.put(&mut out[A::SIZE..]);
    }
    fn get(b: &[u8]) -> Option<Self> {
        Some((A::get(&b[..A::SIZE])?, B::get(&b[A::SIZE..])?))
    }
}

const CHUNK: usize = 64 * 1024;

fn invalid(what: &str) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, what.to_string())
}

/// Encoder over a writer.
pub struct Enc<W> {
    w: W,
    buf: Vec<u8>,
}

impl<W: Write> Enc<W> {
    /// An encoder writing to `w`.
    pub fn new(w: W) -> Enc<W> {
        Enc {
            w,
            buf: Vec::with_capacity(CHUNK),
        }
    }

    /// The writer back (everything written has been passed on to it).
    pub fn into_inner(self) -> W {
        self.w
    }

    /// One value.
    pub fn put<T: Fixed>(&mut self, v: &T) -> io::Result<()> {
        let mut b = [0u8; 64];
        assert!(T::SIZE <= b.len(), "fixed values are small");
        v.put(&mut b[..T::SIZE]);
        self.w.write_all(&b[..T::SIZE])
    }

    /// A slice: its length, then its items.
    pub fn slice<T: Fixed>(&mut self, v: &[T]) -> io::Result<()> {
        self.put(&(v.len() as u64))?;
        let per = (CHUNK / T::SIZE).max(1);
        for part in v.chunks(per) {
            self.buf.clear();
            self.buf.resize(part.len() * T::SIZE, 0);
            for (x, out) in part.iter().zip(self.buf.chunks_exact_mut(T::SIZE)) {
                x.put(out);
            }
            self.w.write_all(&self.buf)?;
        }
        Ok(())
    }

    /// A string (its UTF-8 bytes as a slice).
    pub fn str(&mut self, s: &str) -> io::Result<()> {
        self.put(&(s.len() as u64))?;
        self.w.write_all(s.as_bytes())
    }
}

/// Decoder over a reader. `limit` bounds the bytes any one slice may claim (the size of the
/// input when known), so a corrupt length cannot allocate beyond it.
pub struct Dec<R> {
    r: R,
    limit: u64,
    buf: Vec<u8>,
}

impl<R: Read> Dec<R> {
    /// A decoder reading from `r`; no slice may be longer than `limit` bytes.
    pub fn new(r: R, limit: u64) -> Dec<R> {
        Dec {
            r,
            limit,
            buf: Vec::with_capacity(CHUNK),
        }
    }

    /// The reader back.
    pub fn into_inner(self) -> R {
        self.r
    }

    /// One value.
    pub fn get<T: Fixed>(&mut self) -> io::Result<T> {
        let mut b = [0u8; 64];
        self.r.read_exact(&mut b[..T::SIZE])?;
        T::get(&b[..T::SIZE]).ok_or_else(|| invalid("value out of range"))
    }

    fn len(&mut self, size: usize) -> io::Result<usize> {
        let n: u64 = self.get()?;
        if n.saturating_mul(size as u64) > self.limit {
            return Err(invalid("length beyond the end of the input"));
        }
        usize::try_from(n).map_err(|_| invalid("length too large"))
    }

    /// A slice written by [`Enc::slice`].
    pub fn slice<T: Fixed>(&mut self) -> io::Result<Vec<T>> {
        let n = self.len(T::SIZE)?;
        let mut out = Vec::with_capacity(n);
        let per = (CHUNK / T::SIZE).max(1);
        let mut left = n;
        while left > 0 {
            let k = left.min(per);
            self.buf.resize(k * T::SIZE, 0);
            self.r.read_exact(&mut self.buf)?;
            for b in self.buf.chunks_exact(T::SIZE) {
                out.push(T::get(b).ok_or_else(|| invalid("value out of range"))?);
            }
            left -= k;
        }
        Ok(out)
    }

    /// A string written by [`Enc::str`].
    pub fn string(&mut self) -> io::Result<String> {
        let n = self.len(1)?;
        let mut b = vec![0u8; n];
        self.r.read_exact(&mut b)?;
        String::from_utf8(b).map_err(|_| invalid("string is not UTF-8"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_values_slices_and_strings() {
        let mut e = Enc::new(Vec::new());
        e.put(&7u64).unwrap();
        e.slice(&[1u32, u32::MAX, 0]).unwrap();
        let big: Vec<(u64, u8)> = (0..200_000u64).map(|i| (i * 3, (i % 251) as u8)).collect();
        e.slice(&big).unwrap();
        e.str("NUR HIDAYAH ñ 漢字").unwrap();
        e.slice::<i32>(&[]).unwrap();
        let bytes = e.into_inner();
        let mut d = Dec::new(bytes.as_slice(), bytes.len() as u64);
        assert_eq!(d.get::<u64>().unwrap(), 7);
        assert_eq!(d.slice::<u32>().unwrap(), vec![1, u32::MAX, 0]);
        assert_eq!(d.slice::<(u64, u8)>().unwrap(), big);
        assert_eq!(d.string().unwrap(), "NUR HIDAYAH ñ 漢字");
        assert!(d.slice::<i32>().unwrap().is_empty());
        assert_eq!(d.into_inner().len(), 0, "everything consumed");
    }

    #[test]
    fn hostile_lengths_and_truncation_are_errors_not_allocations() {
        // A length claiming 2^60 items: refused before allocating.
        let mut e = Enc::new(Vec::new());
        e.put(&(1u64 << 60)).unwrap();
        let bytes = e.into_inner();
        let err = Dec::new(bytes.as_slice(), 1 << 30)
            .slice::<u64>()
            .unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::InvalidData);
        // Truncated in the middle of a slice.
        let mut e = Enc::new(Vec::new());
        e.slice(&[1u64, 2, 3]).unwrap();
        let bytes = e.into_inner();
        let cut = &bytes[..bytes.len() - 3];
        let err = Dec::new(cut, cut.len() as u64).slice::<u64>().unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::UnexpectedEof);
        // Invalid UTF-8 in a string.
        let mut e = Enc::new(Vec::new());
        e.put(&2u64).unwrap();
        let mut bytes = e.into_inner();
        bytes.extend_from_slice(&[0xff, 0xfe]);
        let err = Dec::new(bytes.as_slice(), 100).string().unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::InvalidData);
    }
}
