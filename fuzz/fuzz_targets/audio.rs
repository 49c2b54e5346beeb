//! Fuzzes the audio decoder, `uisrnn_frontend::decode_audio` (symphonia's probe and
//! demuxers and decoders for WAV, RF64, FLAC, MP3, OGG Vorbis and AAC in MP4, the
//! RF64 header rewrite, the mix-down and the header checks), on arbitrary bytes.
//!
//! Any bytes must give `Ok` or `Err`, never a panic, an abort, unbounded memory or a
//! hang. Accepted audio must satisfy `Audio::new`'s contract: samples, all finite,
//! at a rate within the accepted bounds.
//!
//! symphonia 0.5.5 panics on some damaged headers (subtractions that overflow in its
//! MP3 and ADTS readers); `decode_audio` catches those and returns `InvalidAudio`,
//! which is what a user sees. libFuzzer's panic hook would abort on the caught
//! panic, so the target replaces it with a silent one: a panic that escapes
//! `decode_audio` still aborts (libfuzzer-sys aborts on any panic out of the
//! target), so the target checks what callers get.
#![no_main]

use std::sync::Once;

use libfuzzer_sys::fuzz_target;
use uisrnn_frontend::audio::{MAX_SAMPLE_RATE, MIN_SAMPLE_RATE};
use uisrnn_frontend::decode_audio;

static QUIET_PANICS: Once = Once::new();

fuzz_target!(|data: &[u8]| {
    QUIET_PANICS.call_once(|| std::panic::set_hook(Box::new(|_| {})));
    match decode_audio(data.to_vec(), "fuzz") {
        Ok(audio) => {
            assert!(!audio.samples.is_empty());
            assert!(audio.samples.iter().all(|x| x.is_finite()));
            assert!((MIN_SAMPLE_RATE..=MAX_SAMPLE_RATE).contains(&audio.sample_rate));
        }
        Err(error) => {
            let _ = error.to_string();
        }
    }
});
