//! Criterion benches of the doseprep core: `cargo bench -p doseprep-benches`
//! (or `make bench-rust`).

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use doseprep::{
    parse_time, prepare, prepare_many, BodyWeight, CellConcentration, ExactVolume, Lot, Order,
    Protocol,
};

struct Fixture {
    protocol: Protocol,
    lot: Lot,
    active: Order,
    placebo: Order,
    day: Vec<Order>,
}

fn fixture() -> Result<Fixture, doseprep::DoseError> {
    let protocol = Protocol::care_ssc();
    let lot = Lot::new(
        "UC-0042",
        CellConcentration::new("viable_cells_per_ml", 12.5e6)?,
        0.93,
        ExactVolume::from_microlitres(10_000),
        4,
        None,
    )?;
    let thawed = parse_time("thawed_at", "2026-11-25T09:00:00+00:00")?;
    let order = |weight: f64, arm: &str, visit: &str| {
        Order::new(
            "CARE-012",
            BodyWeight::from_kg(weight)?,
            arm,
            visit,
            thawed.clone(),
            None,
        )
    };
    let arms = ["A", "B", "C"];
    let visits = ["month-0", "month-3"];
    // 100,000 orders, weights 35-150 kg spread evenly, every arm and visit.
    let day = (0..100_000u32)
        .map(|i| {
            let weight = 35.0 + f64::from(i % 11_501) * 0.01;
            let arm = arms.get(i as usize % 3).copied().unwrap_or("A");
            let visit = visits.get(i as usize / 3 % 2).copied().unwrap_or("month-0");
            order(weight, arm, visit)
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Fixture {
        active: order(72.4, "A", "month-0")?,
        placebo: order(72.4, "C", "month-0")?,
        protocol,
        lot,
        day,
    })
}

fn benches(c: &mut Criterion) {
    let Ok(f) = fixture() else {
        eprintln!("bench fixture failed to build");
        return;
    };
    c.bench_function("prepare active", |b| {
        b.iter(|| {
            prepare(
                black_box(&f.protocol),
                black_box(&f.active),
                black_box(&f.lot),
            )
        })
    });
    c.bench_function("prepare placebo", |b| {
        b.iter(|| {
            prepare(
                black_box(&f.protocol),
                black_box(&f.placebo),
                black_box(&f.lot),
            )
        })
    });
    c.bench_function("Protocol::care_ssc", |b| b.iter(Protocol::care_ssc));
    c.bench_function("Protocol::from_toml care-ssc.toml", |b| {
        b.iter(|| Protocol::from_toml(black_box(doseprep::protocol::CARE_SSC_TOML)))
    });
    c.bench_function("BodyWeight::parse \"160 lb\"", |b| {
        b.iter(|| BodyWeight::parse(black_box("160 lb")))
    });
    let mut group = c.benchmark_group("prepare_many");
    group.throughput(Throughput::Elements(f.day.len() as u64));
    group.sample_size(10);
    group.bench_function("100,000 orders", |b| {
        b.iter(|| prepare_many(black_box(&f.protocol), black_box(&f.day), black_box(&f.lot)))
    });
    group.finish();
}

criterion_group!(core, benches);
criterion_main!(core);
