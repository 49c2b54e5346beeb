//! Builds a corpus of conversations from real voices, for training and measuring
//! on speakers nobody tuned on: turns cut from one read-speech utterance per
//! speaker (`../shared/voices/`: 251 LibriSpeech speakers, CC BY 4.0), with
//! pauses, backchannels, per-speaker rooms (reverberation), level changes and
//! background noise, and true turns tight to the speech.
//!
//! ```text
//! cargo run --release --example real_voice_corpus -- VOICES_DIR OUT_DIR \
//!     [--seed 0] [--train 480] [--validation 60] [--test 60]
//! ```
//!
//! `VOICES_DIR` holds the `SPEAKER-CHAPTER-UTTERANCE.flac` files. The speakers are
//! split once, by the seed: 50 test speakers drawn from those whose LibriSpeech id
//! is even (the odd ones served earlier front-end choices), 30 validation
//! speakers, the rest (171) for training. Every conversation of a split uses only
//! that split's speakers. Writes `OUT_DIR/{train,validation,test}/ID.wav` (16 kHz,
//! 16-bit), `OUT_DIR/{split}.rttm` (speaker names `ID_LIBRISPEECHID`, so
//! `uisrnn train --validation-split speakers` finds the identities) and
//! `OUT_DIR/corpus.json` (the settings, the splits' speakers, and every
//! conversation's speakers, rooms, gains, noise and level). Each conversation has
//! its own generator seeded from the seed, split and index, so the same command
//! writes the same bytes. `benches/accuracy/real_voice_corpus.sh` runs this and
//! embeds the audio with `uisrnn embed --rttm`.

use std::collections::BTreeMap;
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use rand::{Rng, RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;
use realfft::{RealFftPlanner, num_complex::Complex};
use serde_json::{Value, json};
use uisrnn::frontend::read_audio;

const RATE: usize = 16_000;
const TEST_SPEAKERS: usize = 50;
const VALIDATION_SPEAKERS: usize = 30;

/// Everything that shapes the conversations (also written to `corpus.json`).
struct Settings {
    speakers_weights: [(usize, f64); 5],
    duration_seconds: (f64, f64),
    backchannel_probability: f64,
    backchannel_seconds: (f64, f64),
    turn_median_seconds: f64,
    turn_log_sigma: f64,
    turn_seconds: (f64, f64),
    pause_seconds: (f64, f64),
    long_pause_probability: f64,
    long_pause_seconds: (f64, f64),
    speaker_gain_db: f64,
    turn_gain_db: f64,
    reverb_probability: f64,
    rt60_seconds: (f64, f64),
    direct_to_reverberant_db: (f64, f64),
    snr_db: (f64, f64),
    level_dbfs: (f64, f64),
    /// Frames (10 ms) this far below the utterance's loud frames are silence.
    silence_below_db: f64,
}

const SETTINGS: Settings = Settings {
    speakers_weights: [(2, 0.30), (3, 0.30), (4, 0.20), (5, 0.12), (6, 0.08)],
    duration_seconds: (30.0, 300.0),
    backchannel_probability: 0.15,
    backchannel_seconds: (0.3, 1.0),
    turn_median_seconds: 3.0,
    turn_log_sigma: 0.6,
    turn_seconds: (1.0, 12.0),
    pause_seconds: (0.15, 0.9),
    long_pause_probability: 0.1,
    long_pause_seconds: (1.0, 3.0),
    speaker_gain_db: 4.0,
    turn_gain_db: 1.5,
    reverb_probability: 0.6,
    rt60_seconds: (0.15, 0.7),
    direct_to_reverberant_db: (0.0, 10.0),
    snr_db: (15.0, 35.0),
    level_dbfs: (-40.0, -20.0),
    silence_below_db: 35.0,
};

impl Settings {
    fn to_json(&self) -> Value {
        json!({
            "speakers_weights": self.speakers_weights,
            "duration_seconds": self.duration_seconds,
            "backchannel_probability": self.backchannel_probability,
            "backchannel_seconds": self.backchannel_seconds,
            "turn_median_seconds": self.turn_median_seconds,
            "turn_log_sigma": self.turn_log_sigma,
            "turn_seconds": self.turn_seconds,
            "pause_seconds": self.pause_seconds,
            "long_pause_probability": self.long_pause_probability,
            "long_pause_seconds": self.long_pause_seconds,
            "speaker_gain_db": self.speaker_gain_db,
            "turn_gain_db": self.turn_gain_db,
            "reverb_probability": self.reverb_probability,
            "rt60_seconds": self.rt60_seconds,
            "direct_to_reverberant_db": self.direct_to_reverberant_db,
            "snr_db": self.snr_db,
            "level_dbfs": self.level_dbfs,
            "silence_below_db": self.silence_below_db,
        })
    }
}

/// One speaker's utterance, normalised to unit loudness on its speech.
struct Voice {
    id: String,
    samples: Vec<f32>,
    /// Per 10 ms frame: loud enough to be speech.
    active: Vec<bool>,
}

const FRAME: usize = RATE / 100;

impl Voice {
    fn read(path: &Path) -> Result<Voice, String> {
        let audio = read_audio(path)
            .and_then(|a| a.to_16k())
            .map_err(|e| format!("{}: {e}", path.display()))?;
        let name = path.file_name().unwrap_or_default().to_string_lossy();
        let id = name.split('-').next().unwrap_or_default().to_string();
        let mut samples = audio.samples;
        let energies: Vec<f64> = samples
            .chunks(FRAME)
            .map(|f| f.iter().map(|&x| f64::from(x) * f64::from(x)).sum::<f64>() / f.len() as f64)
            .collect();
        let mut sorted = energies.clone();
        sorted.sort_by(f64::total_cmp);
        let loud = sorted[(sorted.len() * 95 / 100).min(sorted.len() - 1)];
        let floor = loud * 10f64.powf(-SETTINGS.silence_below_db / 10.0);
        let active: Vec<bool> = energies.iter().map(|&e| e > floor).collect();
        let speech: Vec<f64> = energies
            .iter()
            .zip(&active)
            .filter(|(_, a)| **a)
            .map(|(e, _)| *e)
            .collect();
        let rms = (speech.iter().sum::<f64>() / speech.len().max(1) as f64).sqrt();
        let gain = (0.05 / rms.max(1e-9)) as f32;
        samples.iter_mut().for_each(|x| *x *= gain);
        Ok(Voice {
            id,
            samples,
            active,
        })
    }

    /// A piece of about `seconds` starting at a random place, trimmed to its first
    /// and last speech frame; `None` when too little speech is left.
    fn piece(&self, seconds: f64, rng: &mut impl Rng) -> Option<&[f32]> {
        let frames = self.active.len();
        let want = ((seconds * 100.0) as usize).clamp(1, frames);
        let first = rng.random_range(0..=frames - want);
        let window = &self.active[first..first + want];
        let start = first + window.iter().position(|&a| a)?;
        let end = first + want - window.iter().rev().position(|&a| a)?;
        if end - start < 25 {
            return None;
        }
        Some(&self.samples[start * FRAME..(end * FRAME).min(self.samples.len())])
    }
}

fn uniform(rng: &mut impl Rng, (low, high): (f64, f64)) -> f64 {
    low + (high - low) * rng.random::<f64>()
}

/// An index drawn with probability proportional to `weights` (the last one when
/// rounding leaves the draw past the end).
fn weighted_index(weights: &[f64], rng: &mut impl Rng) -> usize {
    let mut draw = rng.random::<f64>() * weights.iter().sum::<f64>();
    for (k, &weight) in weights.iter().enumerate() {
        if draw < weight {
            return k;
        }
        draw -= weight;
    }
    weights.len() - 1
}

fn gaussian(rng: &mut impl Rng) -> f64 {
    // Box-Muller; 1 - u keeps the logarithm finite.
    let u = 1.0 - rng.random::<f64>();
    let v = rng.random::<f64>();
    (-2.0 * u.ln()).sqrt() * (std::f64::consts::TAU * v).cos()
}

fn db(gain_db: f64) -> f64 {
    10f64.powf(gain_db / 20.0)
}

/// A synthetic room impulse response: the direct path, then exponentially decaying
/// noise (RT60 `rt60` seconds) after a 2-10 ms delay, scaled to the
/// direct-to-reverberant ratio `drr_db`.
fn room_response(rng: &mut impl Rng, rt60: f64, drr_db: f64) -> Vec<f32> {
    let length = (rt60 * RATE as f64) as usize;
    let delay = rng.random_range(RATE / 500..RATE / 100);
    let mut response = vec![0f64; delay + length];
    response[0] = 1.0;
    let decay = -6.9078 / (rt60 * RATE as f64); // ln(1e-3): 60 dB at rt60
    for (n, value) in response[delay..].iter_mut().enumerate() {
        *value = gaussian(rng) * (decay * n as f64).exp();
    }
    let tail: f64 = response[delay..].iter().map(|x| x * x).sum();
    let scale = (10f64.powf(-drr_db / 10.0) / tail).sqrt();
    response[delay..].iter_mut().for_each(|x| *x *= scale);
    response.into_iter().map(|x| x as f32).collect()
}

/// `signal` convolved with `response` (full length), by FFT.
fn convolve(signal: &[f32], response: &[f32], planner: &mut RealFftPlanner<f32>) -> Vec<f32> {
    let length = signal.len() + response.len() - 1;
    let size = length.next_power_of_two();
    let forward = planner.plan_fft_forward(size);
    let inverse = planner.plan_fft_inverse(size);
    let spectrum = |x: &[f32], forward: &Arc<dyn realfft::RealToComplex<f32>>| {
        let mut input = vec![0f32; size];
        input[..x.len()].copy_from_slice(x);
        let mut output = forward.make_output_vec();
        forward
            .process(&mut input, &mut output)
            .expect("buffer sizes come from the plan");
        output
    };
    let a = spectrum(signal, &forward);
    let b = spectrum(response, &forward);
    let mut product: Vec<Complex<f32>> = a.iter().zip(&b).map(|(x, y)| x * y).collect();
    let mut out = inverse.make_output_vec();
    inverse
        .process(&mut product, &mut out)
        .expect("buffer sizes come from the plan");
    out.truncate(length);
    let norm = 1.0 / size as f32;
    out.iter_mut().for_each(|x| *x *= norm);
    out
}

struct Conversation {
    id: String,
    audio: Vec<i16>,
    /// (start, duration, speaker) in seconds.
    turns: Vec<(f64, f64, String)>,
    record: Value,
}

fn conversation(id: String, voices: &[&Voice], rng: &mut ChaCha8Rng) -> Conversation {
    let s = &SETTINGS;
    let weights: Vec<f64> = s.speakers_weights.iter().map(|w| w.1).collect();
    let count = s.speakers_weights[weighted_index(&weights, rng)]
        .0
        .min(voices.len());
    let mut chosen: Vec<usize> = (0..voices.len()).collect();
    for i in 0..count {
        let j = rng.random_range(i..chosen.len());
        chosen.swap(i, j);
    }
    chosen.truncate(count);
    // Dirichlet(2) dominance: Gamma(2) draws, a sum of two exponentials.
    let dominance: Vec<f64> = (0..count)
        .map(|_| -(1.0 - rng.random::<f64>()).ln() - (1.0 - rng.random::<f64>()).ln())
        .collect();
    let speaker_gain: Vec<f64> = (0..count)
        .map(|_| uniform(rng, (-s.speaker_gain_db, s.speaker_gain_db)))
        .collect();
    let rooms: Vec<Option<(f64, f64)>> = (0..count)
        .map(|_| {
            (rng.random::<f64>() < s.reverb_probability).then(|| {
                (
                    uniform(rng, s.rt60_seconds),
                    uniform(rng, s.direct_to_reverberant_db),
                )
            })
        })
        .collect();
    let responses: Vec<Option<Vec<f32>>> = rooms
        .iter()
        .map(|room| room.map(|(rt60, drr)| room_response(rng, rt60, drr)))
        .collect();
    let target = (s.duration_seconds.0.ln()
        + rng.random::<f64>() * (s.duration_seconds.1.ln() - s.duration_seconds.0.ln()))
    .exp();

    let mut planner = RealFftPlanner::<f32>::new();
    let mut mix: Vec<f32> = Vec::new();
    let mut turns = Vec::new();
    let mut cursor = (uniform(rng, s.pause_seconds) * RATE as f64) as usize;
    let mut last: Option<usize> = None;
    while (cursor as f64) < target * RATE as f64 {
        let weights: Vec<f64> = (0..count)
            .map(|k| if Some(k) == last { 0.0 } else { dominance[k] })
            .collect();
        let speaker = weighted_index(&weights, rng);
        let seconds = if rng.random::<f64>() < s.backchannel_probability {
            uniform(rng, s.backchannel_seconds)
        } else {
            (s.turn_median_seconds.ln() + s.turn_log_sigma * gaussian(rng))
                .exp()
                .clamp(s.turn_seconds.0, s.turn_seconds.1)
        };
        let voice = voices[chosen[speaker]];
        let Some(piece) = (0..10).find_map(|_| voice.piece(seconds, rng)) else {
            continue;
        };
        last = Some(speaker);
        let gain =
            db(speaker_gain[speaker] + uniform(rng, (-s.turn_gain_db, s.turn_gain_db))) as f32;
        let dry: Vec<f32> = piece.iter().map(|x| x * gain).collect();
        let wet = match &responses[speaker] {
            Some(response) => convolve(&dry, response, &mut planner),
            None => dry,
        };
        if mix.len() < cursor + wet.len() {
            mix.resize(cursor + wet.len(), 0.0);
        }
        mix[cursor..cursor + wet.len()]
            .iter_mut()
            .zip(&wet)
            .for_each(|(m, w)| *m += w);
        turns.push((
            cursor as f64 / RATE as f64,
            piece.len() as f64 / RATE as f64,
            format!("{id}_{}", voice.id),
        ));
        cursor += piece.len();
        let pause = if rng.random::<f64>() < s.long_pause_probability {
            uniform(rng, s.long_pause_seconds)
        } else {
            uniform(rng, s.pause_seconds)
        };
        cursor += (pause * RATE as f64) as usize;
    }
    mix.resize(mix.len().max(cursor), 0.0);

    // Noise: white and low-frequency (a one-pole low-pass of white noise), at an
    // SNR to the speech's loudness.
    let speech_power = {
        let mut sum = 0f64;
        let mut n = 0usize;
        for &(start, duration, _) in &turns {
            let a = (start * RATE as f64) as usize;
            let b = a + (duration * RATE as f64) as usize;
            sum += mix[a..b].iter().map(|&x| f64::from(x).powi(2)).sum::<f64>();
            n += b - a;
        }
        sum / n.max(1) as f64
    };
    let snr = uniform(rng, s.snr_db);
    let low_share = rng.random::<f64>();
    let noise_rms = (speech_power * 10f64.powf(-snr / 10.0)).sqrt();
    let mut low = 0f64;
    let low_gain = (1.0 - 0.995f64.powi(2)).sqrt(); // unit variance after the filter
    for x in mix.iter_mut() {
        low = 0.995 * low + low_gain * gaussian(rng);
        let white = gaussian(rng);
        let noise = (1.0 - low_share).sqrt() * white + low_share.sqrt() * low;
        *x += (noise_rms * noise) as f32;
    }
    let level = uniform(rng, s.level_dbfs);
    let rms = (mix.iter().map(|&x| f64::from(x).powi(2)).sum::<f64>() / mix.len() as f64).sqrt();
    let scale = db(level) / rms.max(1e-12);
    let audio: Vec<i16> = mix
        .iter()
        .map(|&x| ((f64::from(x) * scale).clamp(-1.0, 1.0) * 32767.0).round() as i16)
        .collect();

    let record = json!({
        "id": id,
        "duration": audio.len() as f64 / RATE as f64,
        "speakers": chosen.iter().map(|&k| voices[k].id.clone()).collect::<Vec<_>>(),
        "dominance": dominance,
        "speaker_gain_db": speaker_gain,
        "rooms": rooms.iter().map(|r| r.map(|(rt60, drr)| json!({"rt60": rt60, "drr_db": drr}))).collect::<Vec<_>>(),
        "snr_db": snr,
        "low_frequency_share": low_share,
        "level_dbfs": level,
        "turns": turns.len(),
    });
    Conversation {
        id,
        audio,
        turns,
        record,
    }
}

fn write_wav(path: &Path, samples: &[i16]) -> Result<(), String> {
    let spec = hound::WavSpec {
        channels: 1,
        sample_rate: RATE as u32,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    };
    let error = |e: hound::Error| format!("{}: {e}", path.display());
    let mut writer = hound::WavWriter::create(path, spec).map_err(error)?;
    for &x in samples {
        writer.write_sample(x).map_err(error)?;
    }
    writer.finalize().map_err(error)
}

fn main() -> Result<(), String> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let usage = "usage: real_voice_corpus VOICES_DIR OUT_DIR [--seed N] [--train N] [--validation N] [--test N]";
    if args.len() < 2 {
        return Err(usage.into());
    }
    let (voices_dir, out) = (PathBuf::from(&args[0]), PathBuf::from(&args[1]));
    let mut options = BTreeMap::from([
        ("--seed", 0u64),
        ("--train", 480),
        ("--validation", 60),
        ("--test", 60),
    ]);
    for pair in args[2..].chunks(2) {
        let [flag, value] = pair else {
            return Err(usage.into());
        };
        let slot = options
            .get_mut(flag.as_str())
            .ok_or_else(|| format!("unknown option {flag}; {usage}"))?;
        *slot = value
            .parse()
            .map_err(|_| format!("{flag} takes a whole number"))?;
    }
    let seed = options["--seed"];

    let mut paths: Vec<PathBuf> = fs::read_dir(&voices_dir)
        .map_err(|e| format!("{}: {e}", voices_dir.display()))?
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "flac"))
        .collect();
    paths.sort();
    let voices: Vec<Voice> = paths
        .par_iter()
        .map(|p| Voice::read(p))
        .collect::<Result<_, _>>()?;
    if voices.len() < TEST_SPEAKERS + VALIDATION_SPEAKERS + 6 {
        return Err(format!(
            "{} voices in {}: too few",
            voices.len(),
            voices_dir.display()
        ));
    }

    // The speaker split.
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let is_even = |v: &Voice| v.id.parse::<u64>().is_ok_and(|n| n % 2 == 0);
    let mut even: Vec<usize> = (0..voices.len()).filter(|&i| is_even(&voices[i])).collect();
    let mut rest: Vec<usize> = (0..voices.len())
        .filter(|&i| !is_even(&voices[i]))
        .collect();
    shuffle(&mut even, &mut rng);
    let mut test: Vec<usize> = even.drain(..TEST_SPEAKERS.min(even.len())).collect();
    rest.extend(even);
    rest.sort();
    shuffle(&mut rest, &mut rng);
    let mut validation: Vec<usize> = rest.drain(..VALIDATION_SPEAKERS).collect();
    let mut train = rest;
    for split in [&mut test, &mut validation, &mut train] {
        split.sort();
    }

    fs::create_dir_all(&out).map_err(|e| format!("{}: {e}", out.display()))?;
    let mut splits_record = serde_json::Map::new();
    for (index, (name, prefix, speakers)) in [
        ("train", "tr", &train),
        ("validation", "va", &validation),
        ("test", "te", &test),
    ]
    .into_iter()
    .enumerate()
    {
        let folder = out.join(name);
        fs::create_dir_all(&folder).map_err(|e| format!("{}: {e}", folder.display()))?;
        let split_voices: Vec<&Voice> = speakers.iter().map(|&i| &voices[i]).collect();
        let count = options[format!("--{name}").as_str()] as usize;
        let conversations: Vec<Conversation> = (0..count)
            .into_par_iter()
            .map(|c| {
                let mut rng = ChaCha8Rng::seed_from_u64(
                    seed.wrapping_mul(1_000_003)
                        .wrapping_add((index as u64) << 32)
                        .wrapping_add(c as u64),
                );
                conversation(format!("{prefix}{c:04}"), &split_voices, &mut rng)
            })
            .collect();
        let mut rttm = String::new();
        let mut records = Vec::new();
        for conversation in &conversations {
            write_wav(
                &folder.join(format!("{}.wav", conversation.id)),
                &conversation.audio,
            )?;
            for (start, duration, speaker) in &conversation.turns {
                rttm.push_str(&format!(
                    "SPEAKER {} 1 {start:.3} {duration:.3} <NA> <NA> {speaker} <NA> <NA>\n",
                    conversation.id
                ));
            }
            records.push(conversation.record.clone());
        }
        let rttm_path = out.join(format!("{name}.rttm"));
        fs::write(&rttm_path, rttm).map_err(|e| format!("{}: {e}", rttm_path.display()))?;
        let hours: f64 = conversations
            .iter()
            .map(|c| c.audio.len() as f64)
            .sum::<f64>()
            / RATE as f64
            / 3600.0;
        eprintln!(
            "{name}: {} conversations, {hours:.2} h, {} speakers",
            conversations.len(),
            speakers.len()
        );
        splits_record.insert(
            name.into(),
            json!({
                "speakers": split_voices.iter().map(|v| v.id.clone()).collect::<Vec<_>>(),
                "hours": hours,
                "conversations": records,
            }),
        );
    }
    let record = json!({
        "seed": seed,
        "voices": voices_dir.display().to_string(),
        "settings": SETTINGS.to_json(),
        "splits": splits_record,
    });
    let path = out.join("corpus.json");
    let mut file = fs::File::create(&path).map_err(|e| format!("{}: {e}", path.display()))?;
    serde_json::to_writer_pretty(&mut file, &record)
        .map_err(|e| format!("{}: {e}", path.display()))?;
    file.write_all(b"\n")
        .map_err(|e| format!("{}: {e}", path.display()))?;
    Ok(())
}

fn shuffle(items: &mut [usize], rng: &mut impl Rng) {
    for i in (1..items.len()).rev() {
        let j = rng.random_range(0..=i);
        items.swap(i, j);
    }
}
