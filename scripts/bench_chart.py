"""Draw `make bench`'s figures (its --json file) as one PNG: latency, memory per worker, and the
first view after a sign-in with the identities claim and without.

    python scripts/bench_chart.py docs/benchmark.json docs/benchmark.png

Needs matplotlib (the `bench` extra, which `make bench` installs); the app never imports it.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

PAGES = [  # (key in the figures, label)
    ("cached", "cached view"),
    ("cached_fresh", "cached, fresh"),
    ("page_floor", "page floor"),
    ("uncached", "uncached view"),
    ("floor", "Auth0 floor"),
]
PERCENTILES = ["p50", "p90", "p99"]


def draw(figures: dict, path: Path) -> None:
    """Three panels: client-side latency of every page (log scale), server time of the cached
    view against its floor, and each worker's memory (USS, PSS, RSS); a fourth for the first
    view after a sign-in when the run measured it."""
    import matplotlib

    matplotlib.use("Agg")  # no display: write the file only
    from matplotlib import pyplot as plt

    first = figures.get("first_view")
    ratios = [4, 2.4, 3] + ([2.8] if first else [])
    fig, axes = plt.subplots(
        1, len(ratios), figsize=(5 * len(ratios), 4.6), gridspec_kw={"width_ratios": ratios}
    )
    client, server, memory = axes[:3]
    width = 0.26
    for i, q in enumerate(PERCENTILES):
        xs = [n + (i - 1) * width for n in range(len(PAGES))]
        client.bar(xs, [figures["client_ms"][k][q] for k, _ in PAGES], width, label=q)
    client.set_yscale("log")
    client.set_xticks(range(len(PAGES)), [label for _, label in PAGES])
    client.set_ylabel("ms (log scale)")
    client.set_title("Latency seen by wrk")
    client.legend()

    timed = [("cached", "cached, fresh"), ("page_floor", "page floor")]  # in turns
    for i, q in enumerate(PERCENTILES):
        xs = [n + (i - 1) * width for n in range(len(timed))]
        server.bar(xs, [figures["server_ms"][k][q] for k, _ in timed], width, label=q)
    server.set_xticks(range(len(timed)), [label for _, label in timed])
    server.set_ylabel("ms")
    server.set_title("Server time (Server-Timing)")
    server.legend()

    phases = figures["memory_mb"]
    workers = phases["cached"] + phases["uncached"]
    names = [f"c{n + 1}" for n in range(len(phases["cached"]))]
    names += [f"u{n + 1}" for n in range(len(phases["uncached"]))]
    xs = range(len(workers))
    uss = [w["uss"] for w in workers]
    shared = [w["pss"] - w["uss"] for w in workers]
    memory.bar(xs, uss, 0.6, label="USS (its own)")
    memory.bar(xs, shared, 0.6, bottom=uss, label="PSS (+ its share)")
    memory.scatter(xs, [w["rss"] for w in workers], marker="_", s=400, color="black",
                   label="RSS (counts shared pages in full)")  # fmt: skip
    memory.axhline(18, color="grey", linestyle="--", linewidth=1)  # the target
    memory.set_xticks(list(xs), names)
    memory.set_ylabel("MB")
    memory.set_title("Memory per worker (c: cached phase, u: uncached)")
    memory.legend(fontsize="small")

    if first:
        draw_first_view(axes[3], first, width)

    s = figures["settings"]
    fig.suptitle(
        f"make bench: {s['workers']} workers, {s['seconds']:g} s per phase, Auth0 latency "
        f"{s['auth0_latency_ms']:g} ms, sessions in {s['store']} ({figures['machine']})",
        fontsize="medium",
    )
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def draw_first_view(ax, first: dict, width: float) -> None:
    """The first view after a sign-in without the identities claim and with it, and the cached
    view after it: server time (log scale), and the Management API calls per first view."""
    bars = [
        ("without", "first", "first,\nno claim"),
        ("with", "first", "first,\nwith claim"),
        ("with", "cached", "cached\n(then)"),
    ]
    for i, q in enumerate(PERCENTILES):
        xs = [n + (i - 1) * width for n in range(len(bars))]
        ax.bar(xs, [first[side]["server_ms"][view][q] for side, view, _ in bars], width, label=q)
    for n, (side, view, _) in enumerate(bars):
        if view == "first":
            calls = first[side]["management_calls"]["per_first_view"]
            ax.annotate(f"{calls:.2f} calls", (n, first[side]["server_ms"][view]["p99"]),
                        textcoords="offset points", xytext=(0, 4), ha="center",
                        fontsize="small")  # fmt: skip
    ax.set_yscale("log")
    ax.set_ylim(top=ax.get_ylim()[1] * 2)  # room for the labels above the bars
    ax.set_xticks(range(len(bars)), [label for _, _, label in bars])
    ax.set_ylabel("ms (log scale)")
    ax.set_title("First view after sign-in (server time)")
    ax.legend(fontsize="small")


if __name__ == "__main__":
    draw(json.loads(Path(sys.argv[1]).read_text()), Path(sys.argv[2]))
