"""Times nomenklatura's LogicV2 on the query/candidate name pairs written by the Rust
screening benchmark (`examples/bench_screening.rs --pairs FILE`), one JSON array
`[query name, candidate name, FtM schema]` a line. Used by `cargo xtask bench screening`.

Prints a readable line and, last, one JSON object.
"""

import json
import sys
import time
from importlib.metadata import version

from followthemoney import model
from nomenklatura.matching import get_algorithm
from nomenklatura.matching.types import ScoringConfig


def main() -> None:
    path = sys.argv[1]
    pairs = []
    with open(path, encoding="utf-8") as fh:
        for i, line in enumerate(fh):
            query, candidate, schema = json.loads(line)
            left = model.get_proxy({"id": f"q{i}", "schema": schema, "properties": {"name": [query]}})
            right = model.get_proxy({"id": f"c{i}", "schema": schema, "properties": {"name": [candidate]}})
            pairs.append((left, right))
    algorithm = get_algorithm("logic-v2")
    if algorithm is None:
        raise SystemExit("nomenklatura has no logic-v2 algorithm")
    config = ScoringConfig.defaults()
    for left, right in pairs[:50]:
        algorithm.compare(left, right, config)
    start = time.perf_counter()
    matches = 0
    for left, right in pairs:
        if algorithm.compare(left, right, config).score >= 0.7:
            matches += 1
    seconds = time.perf_counter() - start
    ms = seconds * 1e3 / max(len(pairs), 1)
    print(f"LogicV2 (nomenklatura {version('nomenklatura')}): {len(pairs)} pairs in {seconds:.2f} s, {ms:.4f} ms per comparison, {matches} at >= 0.7")
    print(json.dumps({"pairs": len(pairs), "ms_per_comparison": ms, "seconds": seconds, "nomenklatura": version("nomenklatura"), "matches": matches}))


if __name__ == "__main__":
    main()
