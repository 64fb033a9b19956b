"""Helper of the restoration benchmark (benches/restoration.rs); not part of Auralis.

    python restoration.py excerpt SECONDS OUT_DIR SOURCE...
        Writes the middle SECONDS of each SOURCE (any format libsndfile reads: Ogg Vorbis,
        Opus, FLAC...) as 32-bit float WAV OUT_DIR/NN-<name>.wav, skipping sources shorter
        than SECONDS; prints the path of each excerpt written or already there.
    python restoration.py match JOBS.tsv
        Runs Matchering 2 on each line `target<TAB>reference<TAB>output` with its default
        settings (its own limiter, 24-bit output); skips outputs that exist.
"""

import os
import sys


def excerpt(seconds, out_dir, sources):
    import soundfile as sf

    os.makedirs(out_dir, exist_ok=True)
    for i, src in enumerate(sources):
        name = os.path.splitext(os.path.basename(src))[0]
        out = os.path.join(out_dir, f"{i:02d}-{name}.wav")
        if not os.path.exists(out):
            info = sf.info(src)
            want = int(seconds * info.samplerate)
            if info.frames < want:
                continue
            start = (info.frames - want) // 2
            data, rate = sf.read(src, start=start, frames=want, dtype="float32", always_2d=True)
            sf.write(out + ".part", data, rate, subtype="FLOAT", format="WAV")
            os.replace(out + ".part", out)
        print(out, flush=True)


def match(jobs):
    import matchering as mg

    mg.log(lambda *_: None)
    with open(jobs) as f:
        lines = [line.rstrip("\n").split("\t") for line in f if line.strip()]
    for target, reference, out in lines:
        if os.path.exists(out):
            continue
        part = out + ".part.wav"
        mg.process(target=target, reference=reference, results=[mg.pcm24(part)])
        os.replace(part, out)
        print(out, flush=True)


if __name__ == "__main__":
    if sys.argv[1] == "excerpt":
        excerpt(float(sys.argv[2]), sys.argv[3], sys.argv[4:])
    elif sys.argv[1] == "match":
        match(sys.argv[2])
    else:
        sys.exit(f"unknown command {sys.argv[1]}")
