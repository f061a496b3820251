"""The sampler's two C callbacks as generated source, and the structural key of a PyTensor graph.

nutpie samples through two C callbacks: the log density with its gradient,
``logp(dim, x, grad_out, logp_out, user_data) -> status``, and "expand",
``expand(dim, expanded, x, values_out, user_data) -> status``, which turns a point of the
unconstrained parameters into every stored value. :func:`wrapper_sources` writes both as plain
Python source for ``numba.cfunc``: each reads every shared array (the case's ``pm.Data``) from
nutpie's ``user_data`` record, a flat run of 8-byte words holding each array's data pointer, size
and shape (:func:`word_offsets`), and calls PyTensor's compiled function on them. Nothing of a case
is in the source, so one compiled callback serves every case of the same structure.

:func:`graph_key` names a graph by its structure: the SHA-256 of its nodes in topological order,
each as (the op's class and properties, where each input comes from: a graph input by position and
type, an earlier node's output by position, or a constant by type and bytes; the outputs' types),
and of where the graph's outputs come from. Equal keys mean equal computations; variable names are
left out.
"""

from __future__ import annotations

import functools
import hashlib

LOGP_SIG = "int64(uint64, CPointer(float64), CPointer(float64), CPointer(float64), voidptr)"
EXPAND_SIG = "int64(uint64, uint64, CPointer(float64), CPointer(float64), voidptr)"


@functools.cache
def address_as_void_pointer():
    """A numba intrinsic that reads an integer (a word of ``user_data``) as a ``void*``."""
    from numba.core import cgutils, types
    from numba.extending import intrinsic

    @intrinsic
    def address_as_void_pointer(typingctx, src):
        def codegen(cgctx, builder, sig, args):
            return builder.inttoptr(args[0], cgutils.voidptr_t)

        return types.voidptr(src), codegen

    return address_as_void_pointer


def word_offsets(record, keys: list[str]) -> dict[str, tuple[int, int, list[int]]]:
    """Each shared key's (data word, size word, shape words) in nutpie's ``user_data`` record.

    Raises if the record is not the flat layout of 8-byte unsigned words this module reads.
    """
    import numpy as np

    shared_dt, base = record.dtype.fields["shared"][:2]
    out = {}
    for key in keys:
        where = []
        for part in ("data", "size", "shape"):
            part_dt, part_off = shared_dt.fields[part][:2]
            dt, off = part_dt.fields[key][:2]
            if dt.base.kind != "u" or dt.base.itemsize != 8 or (base + part_off + off) % 8:
                raise RuntimeError(f"nutpie's user_data layout changed ({part} of a shared input is {dt})")
            first = (base + part_off + off) // 8
            where.append(first if part != "shape" else list(range(first, first + int(np.prod(dt.shape)))))
        out[key] = tuple(where)
    if record.dtype.itemsize % 8:
        raise RuntimeError("nutpie's user_data record is not a whole number of 8-byte words")
    return out


def _array_reads(keys, offsets, shared_data) -> list[str]:
    lines = []
    for i, key in enumerate(keys):
        data, size, shape = offsets[key]
        arr = shared_data[key]
        dims = "".join(f"int(words[{w}]), " for w in shape)
        lines.append(
            f"        a{i} = carray(address_as_void_pointer(words[{data}]), int(words[{size}]), "
            f"np.{arr.dtype.name}).reshape(({dims}))"
        )
    return lines


def wrapper_sources(n_dim: int, n_expanded: int, n_words: int, logp_keys, expand_keys, offsets, shared_data) -> tuple[str, str]:
    """The source of the log-density and expand C callbacks, reading each shared array by pointer.

    They do what nutpie's own wrappers do (same argument checks, return codes and finiteness
    checks); only the way they reach the arrays differs.
    """
    logp_args = ", ".join(f"a{i}" for i in range(len(logp_keys)))
    expand_args = ", ".join(f"a{i}" for i in range(len(expand_keys)))
    head = f"        words = carray(user_data_, ({n_words},), np.uint64)"
    logp = "\n".join(
        [
            "def forecast_logp(dim, x_, out_, logp_, user_data_):",
            f"    if dim != {n_dim}:",
            "        return -1",
            "    try:",
            f"        x = carray(x_, ({n_dim},))",
            f"        out = carray(out_, ({n_dim},))",
            "        logp = carray(logp_, ())",
            head,
            *_array_reads(logp_keys, offsets, shared_data),
            f"        logp_val, grad = logp_inner(x{', ' if logp_args else ''}{logp_args})",
            "        logp[()] = logp_val",
            "        out[...] = grad",
            "        if not np.all(np.isfinite(out)):",
            "            return 3",
            "        if not np.isfinite(logp_val):",
            "            return 4",
            "    except Exception:",
            "        return 1",
            "    return 0",
            "",
        ]
    )
    expand = "\n".join(
        [
            "def forecast_expand(dim, expanded, x_, out_, user_data_):",
            f"    if dim != {n_dim}:",
            "        return -1",
            f"    if expanded != {n_expanded}:",
            "        return -1",
            "    try:",
            f"        x = carray(x_, ({n_dim},))",
            f"        out = carray(out_, ({n_expanded},))",
            head,
            *_array_reads(expand_keys, offsets, shared_data),
            f"        (values,) = expand_inner(x{', ' if expand_args else ''}{expand_args})",
            "        out[...] = values",
            "    except Exception:",
            "        return -2",
            "    return 0",
            "",
        ]
    )
    return logp, expand


def graph_key(fgraph) -> str:
    """SHA-256 of a graph's structure: its nodes in order, each with its op, where its inputs come from,
    and its outputs' types; each input's type; each constant's value.

    Ops and constants are keyed as PyTensor's numba cache keys them (the op's class and properties,
    the constant's bytes). Variable names are left out: they change no compiled code. Raises when an
    op has no properties to key it by (it could hide what it computes).
    """
    from pytensor.graph.basic import Constant
    from pytensor.link.numba.dispatch.basic import cache_key_for_constant, default_hash_key_from_props

    def kind(var):
        return f"{type(var.type).__module__}.{type(var.type).__qualname__}:{var.type}"

    where = {v: ("input", i, kind(v)) for i, v in enumerate(fgraph.inputs)}
    nodes = []
    for n, node in enumerate(fgraph.toposort()):
        if not hasattr(node.op, "_props_dict"):
            raise TypeError(f"the model's graph holds an op without properties ({type(node.op).__name__})")
        for v in node.inputs:
            if v not in where:
                if not isinstance(v, Constant):
                    raise TypeError(f"the model's graph has an unexpected free input {v}")
                where[v] = ("constant", kind(v), cache_key_for_constant(v.data))
        nodes.append((default_hash_key_from_props(node.op), [where[v] for v in node.inputs], [kind(o) for o in node.outputs]))
        where.update({o: ("node", n, j) for j, o in enumerate(node.outputs)})
    for v in fgraph.outputs:
        if v not in where:
            where[v] = ("constant", kind(v), cache_key_for_constant(v.data))
    return hashlib.sha256(repr((nodes, [where[v] for v in fgraph.outputs])).encode()).hexdigest()
