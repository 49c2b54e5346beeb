//! The HTTP service example (`examples/service`), started on a loopback port and
//! driven by a real HTTP client (ureq): real files in several formats, concurrent
//! requests, speaker counts, and bad requests with their 4xx answers.

#[path = "../examples/service/app.rs"]
mod app;

use std::path::PathBuf;
use std::sync::Arc;

use app::Service;
use uisrnn::pipeline::{Diarizer, SpectralLabeler};

/// The largest body the test server takes.
const MAX_BODY: usize = 1 << 20;

fn repo(path: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(path)
}

/// Starts the service on a free loopback port in a thread of its own; its address.
fn start() -> String {
    let service = Arc::new(Service {
        diarizer: Diarizer::builder(SpectralLabeler::default())
            .build()
            .unwrap(),
        spectral: SpectralLabeler::default(),
        uisrnn: None,
    });
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let address = listener.local_addr().unwrap();
    listener.set_nonblocking(true).unwrap();
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        runtime.block_on(async move {
            let listener = tokio::net::TcpListener::from_std(listener).unwrap();
            app::serve(listener, service, MAX_BODY).await.unwrap();
        });
    });
    format!("http://{address}")
}

/// POSTs `body` to `/diarize?query`: the status and the JSON answer.
fn post(base: &str, query: &str, body: &[u8]) -> (u16, serde_json::Value) {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into();
    let mut response = agent
        .post(format!("{base}/diarize?{query}"))
        .send(body)
        .unwrap();
    let status = response.status().as_u16();
    let text = response.body_mut().read_to_string().unwrap();
    let json = serde_json::from_str(&text).unwrap_or_else(|_| serde_json::json!({ "text": text }));
    (status, json)
}

/// The status of a POST whose body is `length` bytes, sent by hand with `Expect:
/// 100-continue`: a server that refuses the body answers before it is sent (a client
/// that sends it anyway meets a closed connection, which hides the answer).
fn status_of_oversized_post(base: &str, length: usize) -> u16 {
    use std::io::{Read, Write};
    let address = base.trim_start_matches("http://");
    let mut socket = std::net::TcpStream::connect(address).unwrap();
    write!(
        socket,
        "POST /diarize HTTP/1.1\r\nHost: {address}\r\nContent-Length: {length}\r\n\
         Expect: 100-continue\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut answer = [0_u8; 64];
    let read = socket.read(&mut answer).unwrap();
    let status_line = String::from_utf8_lossy(&answer[..read]).into_owned();
    status_line
        .split_whitespace()
        .nth(1)
        .and_then(|code| code.parse().ok())
        .unwrap_or_else(|| panic!("no status in {status_line:?}"))
}

fn read(path: &str) -> Vec<u8> {
    std::fs::read(repo(path)).unwrap()
}

#[test]
fn the_service_diarizes_real_files_concurrently_and_refuses_bad_ones() {
    let base = start();
    // Health first: the server is up once it answers.
    let agent = ureq::agent();
    let mut health = None;
    for _ in 0..100 {
        if let Ok(mut response) = agent.get(format!("{base}/health")).call() {
            health = Some(response.body_mut().read_to_string().unwrap());
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    assert_eq!(health.as_deref(), Some("ok"));

    // Real speech in three formats: the lossless ones give the WAV's answer.
    let wav = read("tests/fixtures/formats/source.wav");
    let (status, from_wav) = post(&base, "file_id=sample", &wav);
    assert_eq!(status, 200, "{from_wav}");
    assert_eq!(from_wav["file_id"], "sample");
    let turns = from_wav["turns"].as_array().unwrap();
    assert!(!turns.is_empty());
    for turn in turns {
        assert!(turn["start"].as_f64().unwrap() < turn["end"].as_f64().unwrap());
    }
    let (status, from_flac) = post(
        &base,
        "file_id=sample",
        &read("tests/fixtures/formats/flac.flac"),
    );
    assert_eq!((status, &from_flac), (200, &from_wav));
    let (status, from_mp3) = post(&base, "", &read("tests/fixtures/formats/mp3.mp3"));
    assert_eq!(status, 200, "{from_mp3}");
    assert_eq!(from_mp3["file_id"], "upload");
    assert!(!from_mp3["turns"].as_array().unwrap().is_empty());

    // Speaker counts.
    for n in [1, 2] {
        let (status, answer) = post(&base, &format!("num_speakers={n}&method=spectral"), &wav);
        assert_eq!(status, 200, "{answer}");
        assert_eq!(answer["speakers"], n);
    }

    // Concurrent requests on the one shared Diarizer: each gets the sequential answer.
    let conversation = Arc::new(read("tests/fixtures/formats/source.wav"));
    let answers: Vec<(u16, serde_json::Value)> = (0..3)
        .map(|_| {
            let (base, body) = (base.clone(), Arc::clone(&conversation));
            std::thread::spawn(move || post(&base, "file_id=sample", &body))
        })
        .collect::<Vec<_>>()
        .into_iter()
        .map(|handle| handle.join().unwrap())
        .collect();
    for answer in &answers {
        assert_eq!(answer, &(200, from_wav.clone()));
    }

    // Bad requests: a status and a message each.
    let silence = {
        let mut bytes = Vec::new();
        let spec = hound::WavSpec {
            channels: 1,
            sample_rate: 16_000,
            bits_per_sample: 16,
            sample_format: hound::SampleFormat::Int,
        };
        let mut writer = hound::WavWriter::new(std::io::Cursor::new(&mut bytes), spec).unwrap();
        for _ in 0..48_000 {
            writer.write_sample(0_i16).unwrap();
        }
        writer.finalize().unwrap();
        bytes
    };
    let cases: Vec<(&str, &[u8], u16, &str)> = vec![
        ("", b"this is not audio", 415, "unsupported audio format"),
        ("", &wav[..wav.len() / 2], 422, "truncated"),
        ("", &silence, 422, "no speech detected"),
        ("", b"", 415, "unsupported audio format"),
        ("num_speakers=0", &wav, 400, "at least 1"),
        ("min_speakers=3&max_speakers=2", &wav, 400, "at most 2"),
        ("num_speakers=2&max_speakers=3", &wav, 400, "no room"),
        ("method=kmeans", &wav, 400, "unknown method"),
        ("method=uisrnn", &wav, 400, "--model"),
        ("num_speakers=two", &wav, 400, ""),
    ];
    for (query, body, want, needle) in cases {
        let (status, answer) = post(&base, query, body);
        assert_eq!(status, want, "{query:?}: {answer}");
        let message = answer["error"]
            .as_str()
            .or(answer["text"].as_str())
            .unwrap_or("");
        assert!(message.contains(needle), "{query:?}: {answer}");
    }
    assert_eq!(status_of_oversized_post(&base, MAX_BODY + 1), 413);
    // The service still serves after all that.
    let (status, again) = post(&base, "file_id=sample", &wav);
    assert_eq!((status, again), (200, from_wav));
}
