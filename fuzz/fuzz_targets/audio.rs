//! Fuzzes the audio decoder, `uisrnn_frontend::decode_audio` (symphonia's probe and
//! demuxers and decoders for WAV, RF64, FLAC, MP3, OGG Vorbis and AAC in MP4, the
//! RF64 header rewrite, the mix-down and the header checks), on arbitrary bytes.
//!
//! Any bytes must give `Ok` or `Err`, never a panic, an abort, unbounded memory or a
//! hang. Accepted audio must satisfy `Audio::new`'s contract: samples, all finite,
//! at a rate within the accepted bounds.
#![no_main]

use libfuzzer_sys::fuzz_target;
use uisrnn_frontend::audio::{MAX_SAMPLE_RATE, MIN_SAMPLE_RATE};
use uisrnn_frontend::decode_audio;

fuzz_target!(|data: &[u8]| {
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
