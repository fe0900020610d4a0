//! candle-core backprop on the workloads and sizes of `benches/workloads.rs`, with the
//! same seeded inputs and the same criterion group names and settings, so that the
//! two reports line up (see BENCHMARKS.md).
//!
//! candle reads its thread count from `RAYON_NUM_THREADS` (once, for its element-wise
//! pool; at every call, for matmul), so the two settings are two runs:
//!
//! ```text
//! RAYON_NUM_THREADS=1 cargo bench --bench candle   # reported as candle_1thread
//! cargo bench --bench candle                       # candle_default (all cores)
//! ```
//!
//! Every candle gradient is checked against matgrad's generated one first, outside
//! the timing, to 1e-9 relative. The medians are printed at the end.

use std::hint::black_box;
use std::time::{Duration, Instant};

use candle_core::Result;
use criterion::measurement::WallTime;
use criterion::{BenchmarkGroup, BenchmarkId, Criterion, SamplingMode, Throughput};
use matgrad_bench_candle::{
    column_major, data, Dictionary, Mlp, Output, Regression, TraceAxb, TwoLayer,
};

#[path = "../../common/losses.rs"]
mod losses;

use losses::*;

const TOLERANCE: f64 = 1e-9;

/// The generated value against the original function's.
fn close(generated: f64, original: f64) {
    let err = (generated - original).abs() / original.abs().max(1.0);
    assert!(
        err <= TOLERANCE,
        "generated value {generated} vs original {original}"
    );
}

fn check(what: &str, out: &Output, value: f64, grads: &[&[f64]]) -> Result<()> {
    let got = out.value.to_scalar::<f64>()?;
    let err = (got - value).abs() / value.abs().max(1.0);
    assert!(
        err <= TOLERANCE,
        "{what}: candle value {got} vs generated {value} ({err:e})"
    );
    assert_eq!(out.grads.len(), grads.len());
    for (k, (g, want)) in out.grads.iter().zip(grads).enumerate() {
        let got = column_major(g)?;
        assert_eq!(got.len(), want.len(), "{what}: gradient {k} length");
        let diff: f64 = got.iter().zip(*want).map(|(a, b)| (a - b) * (a - b)).sum();
        let norm: f64 = want.iter().map(|b| b * b).sum();
        let err = (diff / norm.max(f64::MIN_POSITIVE)).sqrt();
        assert!(
            err <= TOLERANCE,
            "{what}: candle gradient {k} differs from generated ({err:e})"
        );
    }
    Ok(())
}

/// The same group settings as `benches/workloads.rs`.
fn group<'a>(
    c: &'a mut Criterion,
    workload: &str,
    size: usize,
    flops: f64,
) -> BenchmarkGroup<'a, WallTime> {
    let mut g = c.benchmark_group(format!("{workload}/{}", data::SIZE_NAMES[size]));
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    g.throughput(Throughput::Elements(flops as u64));
    match size {
        0 => {
            g.sample_size(40)
                .warm_up_time(Duration::from_millis(400))
                .measurement_time(Duration::from_millis(1200));
        }
        1 => {
            g.sample_size(30)
                .warm_up_time(Duration::from_millis(500))
                .measurement_time(Duration::from_millis(1500));
        }
        _ => {
            g.sample_size(10)
                .sampling_mode(SamplingMode::Flat)
                .warm_up_time(Duration::from_millis(500))
                .measurement_time(Duration::from_millis(2500));
        }
    }
    g
}

/// `candle_1thread` when `RAYON_NUM_THREADS=1`, else `candle_default`.
fn name() -> &'static str {
    if candle_core::utils::get_num_threads() == 1 {
        "candle_1thread"
    } else {
        "candle_default"
    }
}

fn run(c: &mut Criterion) -> Result<()> {
    let name = name();
    println!(
        "{name}: candle uses {} thread(s)",
        candle_core::utils::get_num_threads()
    );

    for size in 0..3 {
        let (n, d, h, k) = data::TWO_LAYER_SIZES[size];
        let p = data::two_layer(size);
        let t = TwoLayer::new(&p)?;
        let (v, g1, g2) = two_layer_grad(&p.x, &p.w1, &p.w2, &p.y);
        close(v, two_layer(&p.x, &p.w1, &p.w2, &p.y));
        check("two_layer", &t.grad()?, v, &[g1.as_slice(), g2.as_slice()])?;
        let (nf, df, hf, kf) = (n as f64, d as f64, h as f64, k as f64);
        let mut g = group(
            c,
            "two_layer",
            size,
            4.0 * nf * df * hf + 6.0 * nf * hf * kf,
        );
        g.bench_function(BenchmarkId::new(name, format!("{n}x{d}x{h}x{k}")), |b| {
            b.iter(|| black_box(&t).grad().unwrap());
        });
        g.finish();
    }

    for size in 0..3 {
        let n = data::MLP_SIZES[size];
        let (d, h, k) = data::MLP_LAYERS;
        let p = data::mlp(size);
        let t = Mlp::new(&p)?;
        let (v, w1, b1, w2, b2) = mlp_grad(&p.x, &p.w1, &p.b1, &p.w2, &p.b2, &p.y);
        close(v, mlp(&p.x, &p.w1, &p.b1, &p.w2, &p.b2, &p.y));
        let want = [w1.as_slice(), b1.as_slice(), w2.as_slice(), b2.as_slice()];
        check("mlp", &t.grad()?, v, &want)?;
        let (nf, df, hf, kf) = (n as f64, d as f64, h as f64, k as f64);
        let mut g = group(c, "mlp", size, 4.0 * nf * df * hf + 6.0 * nf * hf * kf);
        g.bench_function(BenchmarkId::new(name, format!("{n}x{d}x{h}x{k}")), |b| {
            b.iter(|| black_box(&t).grad().unwrap());
        });
        g.finish();
    }

    for size in 0..3 {
        let (n, d) = data::REGRESSION_SIZES[size];
        let label = format!("{n}x{d}");
        let flops = 4.0 * n as f64 * d as f64;

        let p = data::least_squares(size);
        let t = Regression::new(&p)?;
        let (v, gw) = least_squares_grad(&p.x, &p.w, &p.y);
        close(v, least_squares(&p.x, &p.w, &p.y));
        check("least_squares", &t.least_squares()?, v, &[gw.as_slice()])?;
        let mut g = group(c, "least_squares", size, flops);
        g.bench_function(BenchmarkId::new(name, &label), |b| {
            b.iter(|| black_box(&t).least_squares().unwrap());
        });
        g.finish();

        let p = data::logistic(size);
        let t = Regression::new(&p)?;
        let (v, gw) = logistic_grad(&p.x, &p.w, &p.y, p.lambda);
        close(v, logistic(&p.x, &p.w, &p.y, p.lambda));
        check("logistic", &t.logistic()?, v, &[gw.as_slice()])?;
        let mut g = group(c, "logistic", size, flops);
        g.bench_function(BenchmarkId::new(name, &label), |b| {
            b.iter(|| black_box(&t).logistic().unwrap());
        });
        g.finish();
    }

    for size in 0..3 {
        let n = data::SQUARE_SIZES[size];
        let p = data::trace_axb(size);
        let t = TraceAxb::new(&p)?;
        let (v, gx) = trace_axb_grad(&p.a, &p.x, &p.b);
        close(v, trace_axb(&p.a, &p.x, &p.b));
        check("trace_axb", &t.grad()?, v, &[gx.as_slice()])?;
        let nf = n as f64;
        let mut g = group(c, "trace_axb", size, 2.0 * nf * nf * nf);
        g.bench_function(BenchmarkId::new(name, format!("n={n}")), |b| {
            b.iter(|| black_box(&t).grad().unwrap());
        });
        g.finish();
    }
    // ln_det(X) − tr(S X): candle-core has no determinant, factorisation or inverse.
    // Only the generated gradient is computed, so that the loss stays in use here.
    let p = data::ln_det(0);
    close(ln_det_trace_grad(&p.x, &p.s).0, ln_det_trace(&p.x, &p.s));

    for size in 0..3 {
        let (pl, k, m) = data::DICTIONARY_SIZES[size];
        let p = data::dictionary(size);
        let t = Dictionary::new(&p)?;
        let (v, gd, gr) = dictionary_grad(&p.x, &p.d, &p.r, p.lambda);
        close(v, dictionary(&p.x, &p.d, &p.r, p.lambda));
        check("dictionary", &t.grad()?, v, &[gd.as_slice(), gr.as_slice()])?;
        let mut g = group(c, "dictionary", size, 6.0 * pl as f64 * k as f64 * m as f64);
        g.bench_function(BenchmarkId::new(name, format!("{pl}x{k}x{m}")), |b| {
            b.iter(|| black_box(&t).grad().unwrap());
        });
        g.finish();
    }
    Ok(())
}

/// Prints the median of every benchmark of this run, from criterion's estimates.
fn print_medians(started: Instant) {
    let dir = std::env::var_os("CARGO_TARGET_DIR").map_or_else(
        || std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target"),
        std::path::PathBuf::from,
    );
    let mut rows = Vec::new();
    collect(&dir.join("criterion"), started, &mut rows);
    rows.sort_by(|a, b| a.0.cmp(&b.0));
    println!("\nmedians ({}):", name());
    for (id, median) in rows {
        println!("  {id:<60} {:>12.3} µs", median / 1e3);
    }
}

/// Finds `new/benchmark.json` + `new/estimates.json` pairs written since `started`.
fn collect(dir: &std::path::Path, started: Instant, rows: &mut Vec<(String, f64)>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let age = started.elapsed();
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            collect(&path, started, rows);
            continue;
        }
        if path.file_name().is_none_or(|f| f != "estimates.json")
            || path.parent().is_none_or(|p| !p.ends_with("new"))
        {
            continue;
        }
        let fresh = entry
            .metadata()
            .and_then(|m| m.modified())
            .ok()
            .and_then(|t| t.elapsed().ok())
            .is_some_and(|e| e <= age);
        let Ok(meta) = std::fs::read_to_string(path.with_file_name("benchmark.json")) else {
            continue;
        };
        let Ok(est) = std::fs::read_to_string(&path) else {
            continue;
        };
        if !fresh || !meta.contains(name()) {
            continue;
        }
        let (Some(id), Some(median)) = (json_string(&meta, "full_id"), json_median(&est)) else {
            continue;
        };
        rows.push((id, median));
    }
}

/// The string value of `"key":"…"` (criterion's ids need no unescaping).
fn json_string(json: &str, key: &str) -> Option<String> {
    let rest = &json[json.find(&format!("\"{key}\":\""))? + key.len() + 4..];
    Some(rest[..rest.find('"')?].to_string())
}

/// The median's point estimate in nanoseconds.
fn json_median(json: &str) -> Option<f64> {
    let rest = &json[json.find("\"median\":")?..];
    let rest = &rest[rest.find("\"point_estimate\":")? + 17..];
    let end = rest.find([',', '}'])?;
    rest[..end].trim().parse().ok()
}

fn main() {
    let started = Instant::now();
    let mut c = Criterion::default()
        .nresamples(20_000)
        .without_plots()
        .configure_from_args();
    run(&mut c).expect("candle benchmark");
    c.final_summary();
    print_medians(started);
}
