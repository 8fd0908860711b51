//! Generates a synthetic city: `cargo run --release -p wangge-synth --example synth -- N SEED OUT_DIR`.

use std::time::Instant;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    if args.len() != 4 {
        return Err("usage: synth BUILDINGS SEED OUT_DIR".into());
    }
    let opts = wangge_synth::SynthOptions { buildings: args[1].parse()?, seed: args[2].parse()?, ..Default::default() };
    let out = std::path::PathBuf::from(&args[3]);
    let start = Instant::now();
    let step = (opts.buildings / 10).max(1);
    let next = std::cell::Cell::new(step);
    let progress = |n: u64| {
        if n >= next.get() {
            eprintln!("{n} buildings ({:.1} s)", start.elapsed().as_secs_f64());
            next.set(n - n % step + step);
        }
    };
    let s = wangge_synth::generate(&opts, &out, &progress)?;
    eprintln!("done in {:.1} s", start.elapsed().as_secs_f64());
    println!(
        "buildings {} units {} households {} compounds {} communities {} streets {} districts {} ways {}",
        s.buildings, s.units, s.households, s.compounds, s.communities, s.streets, s.districts, s.network_ways
    );
    println!("facilities {:?}", s.facilities_by_category);
    for f in &s.files {
        println!("{} {} bytes", f.display(), std::fs::metadata(f)?.len());
    }
    Ok(())
}
