//! Criterion benches of the doseprep core: `cargo bench -p doseprep-benches`
//! (or `make bench-rust`).

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use doseprep::{
    parse_time, plan_day, prepare, prepare_many, prepare_many_into, BodyWeight, CellConcentration,
    DayOrder, DayRow, ExactVolume, Lot, LotSpec, Order, Protocol, Randomization,
};

struct Fixture {
    protocol: Protocol,
    lot: Lot,
    active: Order,
    placebo: Order,
    day: Vec<Order>,
    clinic: Vec<DayRow>,
    randomization: Randomization,
}

fn fixture() -> Result<Fixture, doseprep::DoseError> {
    let protocol = Protocol::care_ssc();
    let lot = Lot::new(LotSpec {
        lot_id: "UC-0042".into(),
        viable_cells_per_ml: CellConcentration::new("viable_cells_per_ml", 12.5e6)?,
        viability: 0.93,
        container_volume: ExactVolume::from_microlitres(10_000),
        extractable_volume: None,
        containers: 400,
        dmso_fraction: Some(0.05),
        expires_at: None,
    })?;
    let thawed = parse_time("thawed_at", "2026-11-25T09:00:00-05:00")?;
    let order = |weight: f64, arm: &str, visit: &str| {
        Order::new(
            "CARE-012",
            BodyWeight::from_kg(weight)?,
            arm,
            visit,
            thawed.clone(),
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
    // A clinic day of 40 orders, one every 15 minutes.
    let mut list = String::from("participant,arm\n");
    let mut clinic = Vec::new();
    for i in 0..40u32 {
        let participant = format!("CARE-{i:03}");
        list.push_str(&format!(
            "{participant},{}\n",
            arms.get(i as usize % 3).copied().unwrap_or("A")
        ));
        let start = thawed
            .checked_add(jiff::SignedDuration::from_mins(30 + 15 * i64::from(i)))
            .map_err(|e| doseprep::DoseError::InvalidTime {
                field: "infusion_at".into(),
                input: e.to_string(),
                reason: "out of range".into(),
            })?;
        clinic.push(DayOrder::new(
            &participant,
            "month-0",
            BodyWeight::from_kg(50.0 + f64::from(i))?,
            start,
        )?);
    }
    Ok(Fixture {
        active: order(72.4, "A", "month-0")?,
        placebo: order(72.4, "C", "month-0")?,
        protocol,
        lot,
        day,
        clinic: DayRow::numbered(clinic),
        randomization: Randomization::from_csv_text(&list)?,
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
    let mut seed = 0x9E37_79B9_7F4A_7C15u64;
    c.bench_function("plan_day 40 orders", |b| {
        b.iter(|| {
            plan_day(
                black_box(&f.protocol),
                black_box(&f.clinic),
                std::slice::from_ref(&f.lot),
                &f.randomization,
                &mut || {
                    seed = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
                    seed
                },
            )
        })
    });
    let mut group = c.benchmark_group("prepare_many");
    group.throughput(Throughput::Elements(f.day.len() as u64));
    group.sample_size(10);
    group.bench_function("100,000 orders", |b| {
        b.iter(|| prepare_many(black_box(&f.protocol), black_box(&f.day), black_box(&f.lot)))
    });
    let mut buffer = Vec::new();
    group.bench_function("100,000 orders into a reused buffer", |b| {
        b.iter(|| {
            prepare_many_into(
                black_box(&f.protocol),
                black_box(&f.day),
                black_box(&f.lot),
                &mut buffer,
            );
            buffer.len()
        })
    });
    group.finish();
    // A clinic-sized batch: its results stay in cache, so this is the
    // computing cost without the memory traffic of 100,000 results.
    let mut group = c.benchmark_group("prepare_many 1,000");
    let thousand = f.day.get(..1000).unwrap_or(&f.day);
    group.throughput(Throughput::Elements(thousand.len() as u64));
    group.bench_function("1,000 orders into a reused buffer", |b| {
        b.iter(|| {
            prepare_many_into(
                black_box(&f.protocol),
                black_box(thousand),
                black_box(&f.lot),
                &mut buffer,
            );
            buffer.len()
        })
    });
    group.finish();
}

criterion_group!(core, benches);
criterion_main!(core);
