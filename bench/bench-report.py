#!/usr/bin/env python3
"""bench-report.py RESULTS.tsv OUT.json OUT.md: turns bench.sh's key<TAB>value lines into
bench/results/latest.json (nested by the dots of the keys) and a Markdown report."""
import json
import sys

JOBS = [("list", "`pkcs11-tool -L`"), ("sign", "login + one signature (pkcs11-tool)"),
        ("unlock", "SO login + C_InitPIN (pkcs11-tool --init-pin)"),
        ("p11unlock", "`p11unlock` end to end"),
        ("serial", "`p11unlock --serial X`, two cards")]
CALLS = ["C_GetSessionInfo", "C_GetSlotInfo", "C_GetSlotList", "C_GetTokenInfo",
         "find+CKA_VALUE", "sign"]


def value(text):
    try:
        return int(text)
    except ValueError:
        try:
            return float(text)
        except ValueError:
            return text


def main():
    flat = {}
    with open(sys.argv[1], encoding="utf-8") as f:
        for line in f:
            key, _, text = line.rstrip("\n").partition("\t")
            flat[key] = value(text)
    tree = {}
    for key, v in flat.items():
        # Call names contain no dots except the key separators; "find+CKA_VALUE" is one part.
        parts = key.split(".")
        node = tree
        for part in parts[:-1]:
            node = node.setdefault(part, {})
        node[parts[-1]] = v
    with open(sys.argv[2], "w", encoding="utf-8") as f:
        json.dump(tree, f, indent=1, ensure_ascii=False)
        f.write("\n")

    def ratio(a, b):
        return "—" if not isinstance(a, (int, float)) or not b else f"{a / b:.2f}"

    md = ["# p11unlock benchmark results", "",
          f"Run {flat.get('date')} ({flat.get('mode')} mode) on commit {flat.get('commit')}.", "",
          f"Machine: {flat.get('machine')}.", "",
          "When other jobs share the machine (see its load average above), absolute times are "
          "noisy, the ratios of alternating runs less so, the APDU counts not at all.", "",
          f"Settings: {flat.get('settings')}. How each number is made and how the floors are "
          "derived: [bench/README.md](../README.md).", "",
          "## APDUs per job (new process) and time against a raw PC/SC program", "",
          "| job (new process) | APDUs, warm cache | floor | APDUs / floor | APDUs, empty cache "
          "| module / raw time at 0 ms | module / raw time at 20 ms |",
          "|---|---|---|---|---|---|---|"]
    for job, name in JOBS:
        a, fl = flat.get(f"apdus.{job}.module"), flat.get(f"apdus.{job}.floor")
        cold = flat.get(f"apdus.{job}.cold", "—")
        cells = []
        for lat in ("0ms", "20ms"):
            m = flat.get(f"time.{lat}.{job}.module_ms")
            r = flat.get(f"time.{lat}.{job}.raw_ms")
            cells.append("—" if m is None else f"{ratio(m, r)}× ({m:.0f} / {r:.0f} ms)")
        md.append(f"| {name} | {a} | {fl} | {ratio(a, fl)} | {cold} | {cells[0]} | {cells[1]} |")
    md += ["", f"The signature certificate's subject ends at byte {flat.get('subject_end')} of "
           "its slot: one 256-byte READ BINARY holds it (see the floors).", ""]
    if f"rate.{CALLS[0]}.module" in flat:
        md += ["## In-process calls per second (card latency 0)", "",
               "| call | p11unlock module | SoftHSM2 | module / SoftHSM2 |", "|---|---|---|---|"]
        for c in CALLS:
            m, s = flat.get(f"rate.{c}.module"), flat.get(f"rate.{c}.softhsm2")
            md.append(f"| {c} | {m:.1f} | {s:.1f} | {ratio(m, s)} |")
        md += ["", f"Peak resident memory (VmHWM) of the process after those calls: module "
               f"{flat.get('memory.module.hwm_kb')} kB, SoftHSM2 {flat.get('memory.softhsm.hwm_kb')} kB.", ""]
    md += ["## Processes signing at once (one card)", "",
           "A further process polls C_GetSessionInfo + C_GetSlotInfo every 10 ms meanwhile, as NSS "
           "does; its slowest pair is the last column.", "",
           "| processes | signatures/s | errors | worst wait (ms) | slowest poll (ms), errors |",
           "|---|---|---|---|---|"]
    for n in (1, 2, 4):
        md.append(f"| {n} | {flat.get(f'concurrent.{n}.signs_per_s')} | "
                  f"{flat.get(f'concurrent.{n}.errors')} | {flat.get(f'concurrent.{n}.worst_wait_ms')} | "
                  f"{flat.get(f'concurrent.{n}.poll_worst_ms')}, {flat.get(f'concurrent.{n}.poll_errors')} |")
    md += ["", "## `pkcs11-tool -L` in a new process with several cards (20 ms per APDU in full mode)",
           "", "| cards | empty cache (ms) | warm cache (ms) |", "|---|---|---|"]
    for n in (1, 2, 4):
        md.append(f"| {n} | {flat.get(f'cards.{n}.list_empty_cache_ms', '—')} | "
                  f"{flat.get(f'cards.{n}.list_ms')} |")
    with open(sys.argv[3], "w", encoding="utf-8") as f:
        f.write("\n".join(md) + "\n")


if __name__ == "__main__":
    main()
