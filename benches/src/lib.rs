//! wangge's benchmarks live in `benches/`; run them with `cargo bench -p wangge-benches`.
