"""analysis.xen.blkif: ring geometry checked against a real C compiler, persistent-grant memory, the
2012 thread's figures, and (issue 13, item 6) persistent grants as dom0 pages, today against 2012.
The ``pgrant-lab ring`` command is tested in tests/test_cli_ring.py."""

from __future__ import annotations

import random
import shutil
import subprocess
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from analysis import paths
from analysis.ingest import thread
from analysis.xen import blkif
from analysis.xen.blkif import DOM0_PAGE_PER_PERSISTENT_GRANT, memory_2012_and_today
from analysis import constants as C
from analysis.errors import PgrantLabError, UsageError

ROOT = Path(__file__).resolve().parents[1]
LAYOUT_C = ROOT / "tests" / "c" / "blkif_layout.c"
COMPILE_FLAGS = {"x86_64": [], "x86_32": ["-m32"]}


# ------------------------------------------------------------------------------------------------
# Compiling C: the ground truth for sizeof / offsetof / the ring.h arithmetic
# ------------------------------------------------------------------------------------------------


def _compile_and_run(source: Path, abi: str, workdir: Path) -> str:
    """Compile ``source`` for ``abi`` with the system cc, run it, return its stdout.

    The x86_32 half is skipped (with the compiler's reason) only when ``cc -m32`` cannot build a
    program here, e.g. without gcc-multilib; .ci/run installs it so CI runs both halves.
    """
    cc = shutil.which("cc")
    assert cc, "cc is not on PATH: install gcc (see README)"
    exe = workdir / f"{source.stem}-{abi}"
    built = subprocess.run([cc, "-std=gnu11", "-Wall", "-Werror", *COMPILE_FLAGS[abi], str(source), "-o", str(exe)],
                           capture_output=True, text=True)
    if built.returncode != 0:
        if abi == "x86_32":
            reason = (built.stderr.strip().splitlines() or ["no output"])[0]
            pytest.skip(f"cc -m32 cannot build here ({reason}); install gcc-multilib to run the x86_32 half")
        raise AssertionError(f"cc failed on {source.name}:\n{built.stderr}")
    return subprocess.run([str(exe)], capture_output=True, text=True, check=True).stdout


@pytest.fixture(scope="module", params=sorted(COMPILE_FLAGS))
def compiled(request, tmp_path_factory):
    """(abi, stdout of tests/c/blkif_layout.c compiled for that ABI)."""
    abi = request.param
    return abi, _compile_and_run(LAYOUT_C, abi, tmp_path_factory.mktemp(f"blkif-{abi}"))


def _python_type(view: str, guest_abi: str, type_name: str):
    if view == "xen":
        return {
            "blkif_request_segment": blkif.SEGMENT,
            "blkif_request": blkif.request_type(guest_abi),
            "blkif_request_indirect": blkif.indirect_request_type(guest_abi),
            "blkif_response": blkif.RESPONSE,
            "blkif_sring_entry": blkif.ring_entry_type(guest_abi),
            "blkif_sring": blkif.sring_type(guest_abi),
        }[type_name]
    return {
        f"blkif_{guest_abi}_request": blkif.linux_request_type(guest_abi),
        "blkif_sring_entry": blkif.ring_entry_type(guest_abi, view="linux"),
    }[type_name]


def test_every_size_offset_and_slot_count_matches_the_compiler(compiled):
    compiler_abi, out = compiled
    facts = [line.split() for line in out.splitlines()]
    checked = {"layout": 0, "slots": 0}
    mismatches = []
    for fact in facts:
        if fact[0] == "slots":
            _, view, guest_abi, order, c_slots = fact
            if view == "linux" and compiler_abi != blkif.DOM0_ABI:
                continue  # ring_slots(view="linux") models blkback as built for a 64-bit dom0
            ours = blkif.ring_slots(int(order), guest_abi, view=view)
            checked["slots"] += 1
        else:
            view, guest_abi, type_name, member, c_value = fact
            lay = blkif.layout(_python_type(view, guest_abi, type_name), compiler_abi)
            ours = lay.size if member == "sizeof" else lay.offsets[member]
            c_slots = c_value
            checked["layout"] += 1
        if ours != int(c_slots):
            mismatches.append(f"{' '.join(fact)} (python: {ours})")
    assert not mismatches, f"{compiler_abi}: Python layout differs from cc: {mismatches}"
    # Every order of both views was compared, and a real number of layout facts.
    assert checked["slots"] >= C.MAX_RING_PAGE_ORDER + 1 and checked["layout"] >= 40


def _random_struct(rng: random.Random, name: str, depth: int = 0):
    """A random struct/union over the scalar types, with nested members, arrays and packing."""
    fields = []
    for i in range(rng.randint(1, 6)):
        kind = rng.random()
        if kind < 0.15 and depth < 2:
            member = _random_struct(rng, f"{name}_{i}", depth + 1)
        elif kind < 0.3:
            member = blkif.Array(rng.choice(["u8", "u16", "u32", "u64"]), rng.randint(1, 5))
        else:
            member = rng.choice(["u8", "u16", "i16", "u32", "u64"])
        fields.append((f"f{i}", member))
    return blkif.Struct(name, tuple(fields), packed=rng.random() < 0.25, union=rng.random() < 0.2)


_C_SCALAR = {"u8": "uint8_t", "u16": "uint16_t", "i16": "int16_t", "u32": "uint32_t", "u64": "uint64_t"}


def _c_decl(ctype, name: str) -> str:
    if isinstance(ctype, str):
        return f"{_C_SCALAR[ctype]} {name};"
    if isinstance(ctype, blkif.Array):
        return f"{_C_SCALAR[ctype.elem]} {name}[{ctype.count}];"
    kind = "union" if ctype.union else "struct"
    body = " ".join(_c_decl(t, n) for n, t in ctype.fields)
    attr = " __attribute__((__packed__))" if ctype.packed else ""
    return f"{kind} {{ {body} }}{attr} {name};"


def test_layout_engine_matches_the_compiler_on_random_structs(tmp_path):
    """The engine is generic: 60 seeded random structs (nested, arrays, packed, unions) vs cc."""
    rng = random.Random(20120919)
    structs = [_random_struct(rng, f"s{i}") for i in range(60)]
    lines = ["#include <stddef.h>", "#include <stdint.h>", "#include <stdio.h>"]
    prints = []
    for s in structs:
        kind = "union" if s.union else "struct"
        body = " ".join(_c_decl(t, n) for n, t in s.fields)
        attr = " __attribute__((__packed__))" if s.packed else ""
        lines.append(f"{kind} {s.name} {{ {body} }}{attr};")
        prints.append(f'printf("{s.name} sizeof %zu\\n", sizeof({kind} {s.name}));')
        prints.append(f'printf("{s.name} alignof %zu\\n", _Alignof({kind} {s.name}));')
        for path in blkif.layout(s, "x86_64").offsets:
            prints.append(f'printf("{s.name} {path} %zu\\n", offsetof({kind} {s.name}, {path}));')
    source = tmp_path / "random_structs.c"
    source.write_text("\n".join(lines + ["int main(void) {", *prints, "return 0; }"]) + "\n")
    by_name = {s.name: s for s in structs}
    for abi in COMPILE_FLAGS:
        out = _compile_and_run(source, abi, tmp_path)
        for line in out.splitlines():
            name, what, value = line.split()
            lay = blkif.layout(by_name[name], abi)
            ours = {"sizeof": lay.size, "alignof": lay.align}.get(what, lay.offsets.get(what))
            assert ours == int(value), f"{abi}: {line} but the layout engine says {ours}"


# ------------------------------------------------------------------------------------------------
# Ring geometry against the sources' own statements
# ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("abi", sorted(blkif.ABIS))
def test_one_page_ring_holds_what_blkback_says(abi):
    # Linux drivers/block/xen-blkback/common.h: XEN_BLKIF_REQS_PER_PAGE 32.
    assert blkif.ring_slots(0, abi) == C.LINUX_REQS_PER_RING_PAGE
    # ring.h: four u32 indexes and pad[48] before the entries.
    assert blkif.ring_header_bytes(abi) == C.RING_HEADER_BYTES == C.RING_INDEXES * 4 + C.RING_PAD_BYTES


def test_x86_64_request_is_112_bytes_as_the_xen_blog_computes():
    # Xen Project blog "Indirect descriptors for Xen PV disks" (2013): "(4096-64)/112 = 36".
    assert blkif.request_size("x86_64") == 112
    assert (C.PAGE_BYTES - blkif.ring_header_bytes("x86_64")) // blkif.entry_size("x86_64") == 36


def test_linux_backend_view_agrees_with_the_public_header():
    for abi in blkif.ABIS:
        assert blkif.layout(blkif.linux_request_type(abi), blkif.DOM0_ABI).size == blkif.request_size(abi)
        assert [blkif.ring_slots(o, abi, view="linux") for o in range(5)] == [blkif.ring_slots(o, abi) for o in range(5)]


def test_geometry_table_lists_every_order_with_one_grant_ref_per_page():
    table = blkif.geometry_table()
    assert len(table) == len(blkif.ABIS) * (C.MAX_RING_PAGE_ORDER + 1)
    assert (table["grant_refs"] == 2 ** table["order"]).all()
    assert (table["ring_bytes"] == C.PAGE_BYTES * table["grant_refs"]).all()


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda: blkif.ring_slots(C.MAX_RING_PAGE_ORDER + 1), "order: expected an integer ring page order from 0 to 4 (XENBUS_MAX_RING_GRANT_ORDER), found 5"),
        (lambda: blkif.ring_slots(-1), "order: expected an integer ring page order from 0 to 4 (XENBUS_MAX_RING_GRANT_ORDER), found -1"),
        (lambda: blkif.ring_slots(1.0), "found 1.0"),
        (lambda: blkif.request_size("arm64"), "abi: expected one of x86_64, x86_32, found 'arm64'"),
        (lambda: blkif.persistent_memory(32, segments=4097), "segments: expected an integer from 1 to 4096"),
        (lambda: blkif.persistent_memory(0), "slots: expected an integer >= 1, found 0"),
        (lambda: blkif.persistent_memory(32, cap=-1), "cap: expected an integer >= 0, found -1"),
        (lambda: blkif.host_memory(-2, 1, slots=32), "vms: expected an integer >= 0, found -2"),
    ],
)
def test_bad_arguments_raise_usage_error_naming_the_argument(call, message):
    with pytest.raises(UsageError) as err:
        call()
    assert message in str(err.value)


# ------------------------------------------------------------------------------------------------
# Properties (hypothesis)
# ------------------------------------------------------------------------------------------------

abis = st.sampled_from(sorted(blkif.ABIS))


@given(abi=abis, total=st.integers(min_value=0, max_value=1 << 22))
def test_slots_is_the_largest_power_of_two_that_fits(abi, total):
    slots = blkif.slots_for_bytes(total, abi)
    header, entry = blkif.ring_header_bytes(abi), blkif.entry_size(abi)
    if total < header + entry:
        assert slots == 0
        return
    assert slots & (slots - 1) == 0  # a power of two
    assert header + slots * entry <= total  # fits
    assert header + 2 * slots * entry > total  # the next power of two would not


@given(abi=abis, order=st.integers(min_value=0, max_value=C.MAX_RING_PAGE_ORDER - 1))
def test_slots_double_with_each_order(abi, order):
    assert blkif.ring_slots(order + 1, abi) == 2 * blkif.ring_slots(order, abi)


@given(abi=abis, pages_log2=st.integers(min_value=3, max_value=20))
def test_slots_double_with_the_ring_once_the_header_is_amortized(abi, pages_log2):
    # Beyond the real orders: doubling any ring of 8 pages or more doubles its slot count.
    small = blkif.slots_for_bytes(C.PAGE_BYTES << pages_log2, abi)
    assert blkif.slots_for_bytes(C.PAGE_BYTES << (pages_log2 + 1), abi) == 2 * small


memory_args = st.fixed_dictionaries({
    "slots": st.integers(1, 4096),
    "segments": st.integers(1, C.MAX_INDIRECT_SEGMENTS_PROTOCOL),
    "page_bytes": st.sampled_from([4096, 16384, 65536]),
    "cap": st.one_of(st.none(), st.integers(0, 1 << 20)),
})


@settings(max_examples=200)
@given(args=memory_args, which=st.sampled_from(["slots", "segments", "page_bytes", "cap"]), step=st.integers(1, 600))
def test_memory_is_monotone_in_every_argument(args, which, step):
    before = blkif.persistent_memory(**args)
    grown = dict(args)
    if which == "cap":
        grown["cap"] = None if args["cap"] is None else args["cap"] + step
    elif which == "segments":
        grown["segments"] = min(args["segments"] + step, C.MAX_INDIRECT_SEGMENTS_PROTOCOL)
    else:
        grown[which] = args[which] + step
    after = blkif.persistent_memory(**grown)
    assert after.pages >= before.pages and after.bytes >= before.bytes
    assert after.page_pointer_bytes >= before.page_pointer_bytes
    assert after.mib == after.bytes / 2**20


@given(args=memory_args, vms=st.integers(0, 1000), disks=st.integers(0, 16), queues=st.integers(1, 8))
def test_host_memory_is_per_device_times_vms_times_disks(args, vms, disks, queues):
    host = blkif.host_memory(vms, disks, queues=queues, **args)
    per_ring = blkif.persistent_memory(**args)
    assert host.bytes == per_ring.bytes * queues * vms * disks
    assert host.pages == per_ring.pages * queues * vms * disks
    assert host.page_pointer_bytes == per_ring.page_pointer_bytes * queues * vms * disks


def test_cap_bounds_pages_and_indirect_pages_are_counted():
    # 4096 segments = 8 indirect pages of 512 descriptors (Xen blkif.h), mapped like data pages.
    mem = blkif.persistent_memory(32, segments=4096)
    assert mem.indirect_pages_per_request == 8 and mem.pages == 32 * (4096 + 8)
    capped = blkif.persistent_memory(32, segments=4096, cap=C.LINUX_MAX_PERSISTENT_GRANTS)
    assert capped.pages == 1056 and capped.capped
    assert not blkif.persistent_memory(32, cap=10_000).capped
    assert blkif.indirect_pages(11) == 0 and blkif.indirect_pages(12) == 1 and blkif.indirect_pages(513) == 2


# ------------------------------------------------------------------------------------------------
# The thread's figures
# ------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def claims():
    return thread.load_memory_claims(ROOT / "data")


def test_thread_memory_arithmetic_holds_but_its_slot_counts_do_not(claims):
    judged = blkif.judge_claims(claims, "x86_64").set_index("claim_id")
    # slots x 11 x 4 KiB: the arithmetic behind 11 MB, 2.75 MB, > 3 GB and 22k is right ...
    for claim in ("patch-11mb", "oliver-2.75mb", "david-150x2", "jan-pointer-22k"):
        assert judged.loc[claim, "holds"], claim
    # ... but no ring of one page holds 64 or 256 requests, and order 2 holds 128, not 256.
    for claim in ("patch-ring-256", "jan-one-page-64", "oliver-one-page-64", "jan-order2-256"):
        assert not judged.loc[claim, "holds"], claim
    assert not judged["premise_ok"].any()


def test_scenario_table_gives_the_order_each_slot_count_needs(claims):
    table = blkif.memory_scenarios(claims, "x86_64", vms=150, disks=2).set_index("slots")
    assert list(table.index) == [256, 64, 32]
    # 256 slots need 8 pages: (4 x 4096 - 64) // 112 = 145 < 256 <= (8 x 4096 - 64) // 112 = 292.
    assert table.loc[256, "order_needed"] == 3 and table.loc[256, "ring_grant_refs"] == 8
    assert table.loc[64, "order_needed"] == 1
    assert table.loc[32, "order_needed"] == 0 and table.loc[32, "one_page_ring"]
    assert table.loc[32, "mib_per_device"] == 32 * 11 * 4096 / 2**20
    assert table.loc[256, "mib_per_device"] == table.loc[256, "claimed_mib_per_device"] == 11
    assert table.loc[256, "host_gib_150x2"] > 3  # David: "> 3 GB"


def test_claims_file_with_a_missing_column_is_reported(tmp_path, claims):
    bad = tmp_path / paths.MEMORY_CLAIMS_FILE
    bad.parent.mkdir(parents=True)
    claims.drop(columns=["slots"]).to_csv(bad, index=False)
    with pytest.raises(PgrantLabError, match=r"memory-claims\.csv: expected columns .* missing slots$"):
        thread.load_memory_claims(tmp_path)


def test_today_is_twelve_times_2012_and_every_grant_is_a_dom0_page():
    m = memory_2012_and_today(150, 2)
    assert DOM0_PAGE_PER_PERSISTENT_GRANT
    assert m["pages_per_device_2012"] == 352 and round(m["gib_2012"], 2) == 0.40
    assert m["mib_today"] == 4950.0 and round(m["gib_today"], 1) == 4.8
    # The pointers Jan counted are 8 bytes per page: 1/512 of the pages they index.
    assert m["page_pointer_bytes_2012"] * 512 == m["bytes_2012"]
