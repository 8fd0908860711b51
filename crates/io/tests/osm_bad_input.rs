//! Corrupt, truncated and impossible OpenStreetMap input: each is an error that names the file
//! (and the element and field where there is one), never a panic or a silently shorter dataset.

use std::io::Write;
use std::path::{Path, PathBuf};
use wangge_io::{IoError, ReadOptions, read};

fn sample(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../geodata").join(rel)
}

/// Writes `bytes` to a temporary file named `name` and reads it.
fn read_bytes(name: &str, bytes: &[u8]) -> (tempfile::TempDir, Result<wangge_io::Imported, IoError>) {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join(name);
    std::fs::File::create(&path).and_then(|mut f| f.write_all(bytes)).expect("write");
    let r = read(&path, &ReadOptions::default());
    (dir, r)
}

fn malformed(r: Result<wangge_io::Imported, IoError>, file: &str, format: &str) -> String {
    let err = r.err().unwrap_or_else(|| panic!("{file} should not read"));
    let msg = err.to_string();
    assert!(matches!(&err, IoError::Malformed { format: f, .. } if *f == format), "{err:?}");
    assert!(msg.contains(file), "the message names the file: {msg}");
    msg
}

/// Offset just past the first blob (the OSMHeader): 4-byte length, BlobHeader, then `datasize`
/// bytes, where datasize is BlobHeader field 3 (a varint).
fn first_blob_end(b: &[u8]) -> usize {
    let hlen = u32::from_be_bytes([b[0], b[1], b[2], b[3]]) as usize;
    let header = &b[4..4 + hlen];
    let at = header.iter().rposition(|&x| x == 0x18).expect("field 3 key");
    let (mut v, mut shift) = (0usize, 0);
    for &x in &header[at + 1..] {
        v |= usize::from(x & 0x7f) << shift;
        shift += 7;
        if x & 0x80 == 0 {
            break;
        }
    }
    4 + hlen + v
}

#[test]
fn osm_a_truncated_pbf_is_an_error_naming_the_file() {
    let full = std::fs::read(sample("helsinki/Helsinki.osm.pbf")).expect("sample");
    for n in [600, 50_000, full.len() / 2, full.len() - 1] {
        let (_d, r) = read_bytes("cut.osm.pbf", &full[..n]);
        let msg = malformed(r, "cut.osm.pbf", "OpenStreetMap PBF");
        assert!(msg.contains("truncated"), "{n} bytes: {msg}");
    }
}

#[test]
fn osm_garbage_after_a_valid_pbf_header_is_an_error() {
    let full = std::fs::read(sample("beijing/haidian-liudaokou.osm.pbf")).expect("sample");
    let end = first_blob_end(&full);
    assert!(full[..end].windows(9).any(|w| w == b"OSMHeader"));
    let mut bytes = full[..end].to_vec();
    let mut x: u32 = 12345;
    bytes.extend((0..400).map(|_| {
        x = x.wrapping_mul(1_103_515_245).wrapping_add(12_345);
        (x >> 16) as u8
    }));
    let (_d, r) = read_bytes("garbage.osm.pbf", &bytes);
    malformed(r, "garbage.osm.pbf", "OpenStreetMap PBF");

    // Valid framing, but the compressed data of the first data blob is overwritten.
    let mut bytes = full.clone();
    for b in &mut bytes[end + 40..end + 240] {
        *b ^= 0xA5;
    }
    let (_d, r) = read_bytes("scrambled.osm.pbf", &bytes);
    malformed(r, "scrambled.osm.pbf", "OpenStreetMap PBF");

    // A valid file followed by trailing garbage.
    let mut bytes = full;
    bytes.extend_from_slice(b"trailing junk that is no blob");
    let (_d, r) = read_bytes("trailing.osm.pbf", &bytes);
    malformed(r, "trailing.osm.pbf", "OpenStreetMap PBF");
}

#[test]
fn osm_malformed_xml_is_an_error_giving_the_line() {
    let text = "<?xml version=\"1.0\"?>\n<osm version=\"0.6\">\n <node id=\"1\" lat=\"40\" lon=\"116\">\n  <tag k=\"a\" v=\"b\">\n </node>\n</osm>\n";
    let (_d, r) = read_bytes("bad.osm", text.as_bytes());
    let msg = malformed(r, "bad.osm", "OpenStreetMap XML");
    assert!(msg.contains("line 5"), "the mismatched </node> is on line 5: {msg}");

    let full = std::fs::read(sample("beijing/haidian-liudaokou.osm")).expect("sample");
    let (_d, r) = read_bytes("cut.osm", &full[..100_000]);
    let msg = malformed(r, "cut.osm", "OpenStreetMap XML");
    assert!(["end of file", "end of input", "truncated"].iter().any(|w| msg.contains(w)), "{msg}");
}

#[test]
fn osm_an_impossible_latitude_names_the_node_and_field() {
    for name in ["bad_lat.osm", "bad_lat.osm.pbf"] {
        let path = sample("fixtures/osm").join(name);
        let err = read(&path, &ReadOptions::default()).err().unwrap_or_else(|| panic!("{name} should not read"));
        match &err {
            IoError::Field { location, field, .. } => {
                assert_eq!((location.as_str(), field.as_str()), ("node n7", "lat"))
            }
            other => panic!("{name}: expected a field error, got {other:?}"),
        }
        assert!(err.to_string().contains(name), "{err}");
    }
    let text = "<osm version=\"0.6\">\n <node id=\"3\" lat=\"40\" lon=\"200.5\"/>\n</osm>\n";
    let (_d, r) = read_bytes("lon.osm", text.as_bytes());
    match r {
        Err(IoError::Field { location, field, reason, path }) => {
            assert_eq!((location.as_str(), field.as_str()), ("node n3", "lon"));
            assert!(reason.contains("200.5") && path.ends_with("lon.osm"), "{reason}");
        }
        other => panic!("expected a field error, got {:?}", other.map(|i| i.layers.buildings.len())),
    }
    let text = "<osm version=\"0.6\">\n <node id=\"4\" lat=\"north\" lon=\"116\"/>\n</osm>\n";
    let (_d, r) = read_bytes("nan.osm", text.as_bytes());
    assert!(matches!(r, Err(IoError::Field { ref field, .. }) if field == "lat"));
}
