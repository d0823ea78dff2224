use super::*;

fn size() -> (u16, u16) {
    (60, 12)
}

fn tiny() -> (u16, u16) {
    (40, 5)
}

/// What a terminal shows after the writes: the escape sequences the display uses (cursor up,
/// carriage return, clear to the end) applied to a grid of lines.
fn screen(bytes: &[u8]) -> Vec<String> {
    let text = String::from_utf8(bytes.to_vec()).unwrap();
    let mut lines: Vec<String> = vec![String::new()];
    let mut row = 0usize;
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\x1b' => {
                assert_eq!(chars.next(), Some('['));
                let mut arg = String::new();
                let cmd = loop {
                    let c = chars.next().unwrap();
                    if c.is_ascii_digit() {
                        arg.push(c);
                    } else {
                        break c;
                    }
                };
                match cmd {
                    'A' => row -= arg.parse::<usize>().unwrap(),
                    'J' => {
                        lines.truncate(row + 1);
                        lines[row].clear();
                    }
                    other => panic!("unexpected escape {other}"),
                }
            }
            '\r' => {}
            '\n' => {
                row += 1;
                if lines.len() <= row {
                    lines.push(String::new());
                }
            }
            c => lines[row].push(c),
        }
    }
    if lines.last().is_some_and(String::is_empty) {
        lines.pop();
    }
    lines
}

#[test]
fn steps_are_drawn_in_place_and_finished_ones_stay() {
    let t0 = Instant::now();
    let mut buf = Vec::new();
    {
        let mut d = Tty::for_test(&mut buf, size);
        d.print("Sending build context to Docker daemon  2.048kB", t0)
            .unwrap();
        d.stream("Step 1/3 : FROM busybox\n", t0).unwrap();
        d.stream(" ---> 1d2b3c4d5e6f\n", t0).unwrap();
        d.stream("Step 2/3 : RUN make\n ---> Running in 0a1b2c3d4e5f\n", t0)
            .unwrap();
        for i in 0..10 {
            d.stream(&format!("line {i}\n"), t0).unwrap();
        }
        d.tick(t0 + Duration::from_millis(1500)).unwrap();
    }
    let shown = screen(&buf);
    assert_eq!(
        shown,
        [
            "Sending build context to Docker daemon  2.048kB",
            "✔ [1/3] FROM busybox                                   0.0s",
            "⠙ [2/3] RUN make                                       1.5s",
            "    │ line 4",
            "    │ line 5",
            "    │ line 6",
            "    │ line 7",
            "    │ line 8",
            "    │ line 9",
            "  … 1 more step waiting",
        ]
    );
}

#[test]
fn a_finished_build_keeps_every_step_and_the_closing_lines() {
    let t0 = Instant::now();
    let mut buf = Vec::new();
    let mut d = Tty::for_test(&mut buf, size);
    d.stream("Step 1/2 : FROM busybox\n ---> 1d2b3c4d5e6f\n", t0)
        .unwrap();
    d.stream("Step 2/2 : COPY . /app\n ---> Using cache\n", t0)
        .unwrap();
    d.stream(" ---> 2d2b3c4d5e6f\nSuccessfully built 2d2b3c4d5e6f\n", t0)
        .unwrap();
    d.stream("Successfully tagged app:latest\n", t0).unwrap();
    d.finished(t0).unwrap();
    drop(d);
    assert_eq!(
        screen(&buf),
        [
            "✔ [1/2] FROM busybox                                   0.0s",
            "✔ [2/2] COPY . /app                             CACHED 0.0s",
            "Successfully built 2d2b3c4d5e6f",
            "Successfully tagged app:latest",
        ]
    );
}

#[test]
fn a_failed_step_keeps_its_whole_output() {
    let t0 = Instant::now();
    let mut d = Tty::for_test(Vec::new(), tiny);
    d.stream("Step 1/3 : FROM busybox\n ---> 1d2b3c4d5e6f\n", t0)
        .unwrap();
    d.stream(
        "Step 2/3 : RUN for i in 1 2 3 4 5 6 7 8; do echo $i; done; exit 3\n",
        t0,
    )
    .unwrap();
    for i in 1..=8 {
        d.stream(&format!("{i}\n"), t0).unwrap();
    }
    // The small window shows only what fits of the tail while running.
    assert!(screen(&d.w).len() <= 5);
    d.failed(t0 + Duration::from_secs(1)).unwrap();
    let shown = screen(&d.w);
    assert_eq!(shown[0], "✔ [1/3] FROM busybox               0.0s");
    assert_eq!(shown[1], "✖ [2/3] RUN for i in 1 2 3 … ERROR 1.0s");
    let output: Vec<&str> = shown[2..].iter().map(String::as_str).collect();
    assert_eq!(
        output,
        [
            "    │ 1",
            "    │ 2",
            "    │ 3",
            "    │ 4",
            "    │ 5",
            "    │ 6",
            "    │ 7",
            "    │ 8"
        ]
    );
}

#[test]
fn durations_and_truncation() {
    assert_eq!(duration(Duration::from_millis(250)), "0.2s");
    assert_eq!(duration(Duration::from_secs(125)), "2m05s");
    assert_eq!(truncate("abcdef", 4), "abc…");
    assert_eq!(truncate("abc", 4), "abc");
    assert_eq!(truncate("日本語テキスト", 7), "日本語…");
}

#[test]
fn fast_output_is_drawn_at_a_bounded_pace() {
    let t0 = Instant::now();
    let mut d = Tty::for_test(Vec::new(), size);
    d.stream("Step 1/2 : RUN seq 1000\n", t0).unwrap();
    let before = d.w.len();
    for i in 0..1000 {
        d.stream(&format!("{i}\n"), t0 + Duration::from_millis(i / 100))
            .unwrap();
    }
    // Ten milliseconds of output: no frame yet; the tick draws the latest state.
    assert_eq!(d.w.len(), before);
    d.tick(t0 + Duration::from_millis(100)).unwrap();
    assert!(screen(&d.w).iter().any(|l| l == "    │ 999"));
    // A step ending is drawn at once.
    let before = d.w.len();
    d.stream(" ---> 1d2b3c4d5e6f\n", t0 + Duration::from_millis(101))
        .unwrap();
    assert!(d.w.len() > before);
}
