//! A minimal reader for classic pcap files (what `tcpdump -w` writes): a 24-byte global header, then
//! records of a 16-byte header plus the captured bytes. A file still being written may end mid-record;
//! the partial record is ignored.

use std::time::Duration;

use crate::error::{HarnessError, Result};

const GLOBAL_HEADER_LEN: usize = 24;
const RECORD_HEADER_LEN: usize = 16;
const MAGIC_MICROS: u32 = 0xa1b2_c3d4;
const MAGIC_NANOS: u32 = 0xa1b2_3c4d;
/// LINKTYPE_ETHERNET.
pub const LINKTYPE_ETHERNET: u32 = 1;

/// One captured frame.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Frame {
    /// Capture timestamp since the Unix epoch, as the kernel stamped it.
    pub timestamp: Duration,
    /// The captured bytes (the whole frame unless the snap length cut it).
    pub data: Vec<u8>,
    /// The frame's length on the wire.
    pub orig_len: u32,
}

/// The frames of a pcap file and its link type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pcap {
    pub linktype: u32,
    pub frames: Vec<Frame>,
}

/// Parse pcap bytes. An empty or header-only file (capture just started) gives no frames.
pub fn parse(bytes: &[u8]) -> Result<Pcap> {
    let Some(header) = bytes.get(..GLOBAL_HEADER_LEN) else {
        return Ok(Pcap {
            linktype: LINKTYPE_ETHERNET,
            frames: Vec::new(),
        });
    };
    let magic_le = u32::from_le_bytes([header[0], header[1], header[2], header[3]]);
    let magic_be = u32::from_be_bytes([header[0], header[1], header[2], header[3]]);
    let (little_endian, nanos) = match (magic_le, magic_be) {
        (MAGIC_MICROS, _) => (true, false),
        (MAGIC_NANOS, _) => (true, true),
        (_, MAGIC_MICROS) => (false, false),
        (_, MAGIC_NANOS) => (false, true),
        _ => {
            return Err(HarnessError::new(format!(
                "not a pcap file: magic {magic_le:#010x}"
            )));
        }
    };
    let read_u32 = |at: &[u8]| {
        let word = [at[0], at[1], at[2], at[3]];
        if little_endian {
            u32::from_le_bytes(word)
        } else {
            u32::from_be_bytes(word)
        }
    };
    let linktype = read_u32(&header[20..24]);
    let mut frames = Vec::new();
    let mut rest = &bytes[GLOBAL_HEADER_LEN..];
    while let Some(record) = rest.get(..RECORD_HEADER_LEN) {
        let seconds = read_u32(&record[0..4]);
        let fraction = read_u32(&record[4..8]);
        let captured = read_u32(&record[8..12]) as usize;
        let orig_len = read_u32(&record[12..16]);
        let Some(data) = rest.get(RECORD_HEADER_LEN..RECORD_HEADER_LEN + captured) else {
            break; // Partial record at the end of a file still being written.
        };
        let subsec = if nanos {
            fraction
        } else {
            fraction.saturating_mul(1000)
        };
        frames.push(Frame {
            timestamp: Duration::new(u64::from(seconds), subsec),
            data: data.to_vec(),
            orig_len,
        });
        rest = &rest[RECORD_HEADER_LEN + captured..];
    }
    Ok(Pcap { linktype, frames })
}

/// Read and parse a pcap file.
pub fn read(path: &std::path::Path) -> Result<Pcap> {
    let bytes = std::fs::read(path)
        .map_err(|err| HarnessError::new(format!("read {}: {err}", path.display())))?;
    parse(&bytes).map_err(|err| err.context(path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(magic: u32, records: &[(u32, u32, &[u8])]) -> Vec<u8> {
        let mut out = Vec::new();
        out.extend_from_slice(&magic.to_le_bytes());
        out.extend_from_slice(&2u16.to_le_bytes());
        out.extend_from_slice(&4u16.to_le_bytes());
        out.extend_from_slice(&[0; 8]);
        out.extend_from_slice(&262_144u32.to_le_bytes());
        out.extend_from_slice(&LINKTYPE_ETHERNET.to_le_bytes());
        for (sec, frac, data) in records {
            out.extend_from_slice(&sec.to_le_bytes());
            out.extend_from_slice(&frac.to_le_bytes());
            out.extend_from_slice(&(data.len() as u32).to_le_bytes());
            out.extend_from_slice(&(data.len() as u32).to_le_bytes());
            out.extend_from_slice(data);
        }
        out
    }

    #[test]
    fn reads_microsecond_records() {
        let bytes = file(MAGIC_MICROS, &[(10, 5, b"abc"), (11, 999_999, b"de")]);
        let pcap = parse(&bytes).unwrap();
        assert_eq!(pcap.linktype, LINKTYPE_ETHERNET);
        assert_eq!(pcap.frames.len(), 2);
        assert_eq!(pcap.frames[0].timestamp, Duration::new(10, 5_000));
        assert_eq!(pcap.frames[0].data, b"abc");
        assert_eq!(pcap.frames[1].timestamp, Duration::new(11, 999_999_000));
    }

    #[test]
    fn reads_nanosecond_records() {
        let pcap = parse(&file(MAGIC_NANOS, &[(1, 7, b"x")])).unwrap();
        assert_eq!(pcap.frames[0].timestamp, Duration::new(1, 7));
    }

    #[test]
    fn ignores_a_partial_last_record() {
        let mut bytes = file(MAGIC_MICROS, &[(1, 0, b"full"), (2, 0, b"cut")]);
        bytes.truncate(bytes.len() - 2);
        let pcap = parse(&bytes).unwrap();
        assert_eq!(pcap.frames.len(), 1);
    }

    #[test]
    fn empty_file_has_no_frames_and_garbage_is_an_error() {
        assert!(parse(&[]).unwrap().frames.is_empty());
        assert!(parse(&[0u8; 24]).is_err());
    }
}
