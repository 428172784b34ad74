"""Numba kernels of the simulator: one period, one replication, a batch of replications.

The sequence of events in period ``t`` (docs/model.md, "Sequence of events"):

1. **receive** — shipments due in ``t`` arrive; each node turns complete input sets into its item
   (``quantity`` units of every input per unit), limited by what it has on order;
2. **observe demand** — external demand joins the node's backlog of external demand;
3. **ship / backorder / lose** — each node ships what its customers require (backlog first),
   rationing when short; what it cannot ship is backordered or, in lost-sales mode, lost
   (an internal order that is lost is cancelled at the customer);
4. **order** — each node orders by its policy; a customer's order is demand at its supplier in
   the same period. Steps 3-4 run node by node from downstream to upstream (ship, then order),
   so a node's order sees what it lost or had cancelled this period;
5. **costs** — zero-lead-time shipments are received, then holding (on hand and in the pipeline),
   penalty and ordering costs and the KPIs of the period are counted (after the warm-up only).

All quantities are float64 units; periods are int64. State layouts are the constants below.
"""

from __future__ import annotations

import numpy as np
from llvmlite import ir
from numba import njit, prange, types
from numba.extending import intrinsic
from numba.np.random._constants import (
    fi_double,
    ki_double,
    wi_double,
    ziggurat_nor_inv_r,
    ziggurat_nor_r,
)

from echelon.policies.order_rules import round_order
from echelon.sim.compiled import (
    LF_HSRC,
    LF_QTY,
    LI_DST,
    LI_LTCOL,
    LI_LTFIX,
    LI_SRC,
    NI_DEMCOL,
    NI_LOST,
    NI_POL,
    NI_PRIORITY,
    NI_RCCOL,
    NP_CAP,
    NP_H,
    NP_K,
    NP_LOT,
    NP_MOQ,
    NP_P,
    NP_POL1,
    NP_POL2,
    NP_RCPROB,
)

# node state NS[n, :]
(
    S_OH,
    S_OO,
    S_BO,
    S_DNEW,
    S_EIP,
    S_Q,
    S_SHORT,
    S_CYC,
    S_LOST,
    S_CLOSED,
    S_SEXT,
    S_EFILL,
    S_FULL,
    S_IPOS,
) = range(14)
N_S = 14
# lane state LS[m, :]
L_BL, L_BUF, L_TRANSIT, L_NEWQ, L_LAST, L_SHIP, L_FILL = range(7)
N_L = 7
# per-node KPI sums ACC[n, :] (post warm-up)
(
    K_HOLD,
    K_PIPE,
    K_PEN,
    K_ORD,
    K_OH,
    K_BO,
    K_EXTDEM,
    K_EXTFILL,
    K_LOST,
    K_SHORT,
    K_DEM,
    K_FILL,
    K_SHIP,
    K_CYC,
    K_CYCBAD,
    K_NORD,
    K_QORD,
    K_TRANSIT,
    K_INTBO,
) = range(19)
N_K = 19
# trace TR[t, n, :]
T_OH, T_BO, T_OO, T_Q, T_COST, T_SHIPPED = range(6)
N_T = 6

EPS = 1e-9
BLOCKS = 256  # replication blocks of run_batch (>= the threads of any machine it runs on)


# --------------------------------------------------------------------------- random numbers
# NumPy's PCG64 and Generator.standard_normal (ziggurat) re-implemented bit for bit, so that a
# replication's draws can be made inside the kernel (in the thread that uses them, into a buffer
# that stays in cache) and still be the very numbers of ``Generator(PCG64(...))`` (docs/model.md).
# A stream state is four uint64: state (low, high), increment (low, high).

_PCG_MUL_LO = np.uint64(4865540595714422341)
_PCG_MUL_HI = np.uint64(2549297995355413924)
_ZIG_KI = np.asarray(ki_double, dtype=np.uint64)
_ZIG_WI = np.asarray(wi_double, dtype=np.float64)
_ZIG_FI = np.asarray(fi_double, dtype=np.float64)
_ZIG_R = float(ziggurat_nor_r)
_ZIG_INV_R = float(ziggurat_nor_inv_r)
_U64_1 = np.uint64(1)


@intrinsic
def _mulhi64(typingctx, a, b):
    """High 64 bits of the 128-bit product of two uint64."""
    sig = types.uint64(types.uint64, types.uint64)

    def codegen(context, builder, signature, args):
        i128 = ir.IntType(128)
        p = builder.mul(builder.zext(args[0], i128), builder.zext(args[1], i128))
        return builder.trunc(builder.lshr(p, ir.Constant(i128, 64)), ir.IntType(64))

    return sig, codegen


@njit(cache=True, inline="always")
def _pcg_next(lo, hi, ilo, ihi):
    """One PCG64 (XSL-RR 128/64) step: the new state and its 64-bit output."""
    mlo = lo * _PCG_MUL_LO
    mhi = _mulhi64(lo, _PCG_MUL_LO) + lo * _PCG_MUL_HI + hi * _PCG_MUL_LO  # type: ignore[call-arg]
    nlo = mlo + ilo
    nhi = mhi + ihi + (_U64_1 if nlo < mlo else np.uint64(0))
    x = nhi ^ nlo
    rot = nhi >> np.uint64(58)
    return nlo, nhi, (x >> rot) | (x << ((np.uint64(64) - rot) & np.uint64(63)))


@njit(cache=True, inline="always")
def _u01(u):
    """NumPy's next_double from a 64-bit output."""
    return (u >> np.uint64(11)) * (1.0 / 9007199254740992.0)


@njit(cache=True, inline="always")
def _std_normal(lo, hi, ilo, ihi):
    """NumPy's ``random_standard_normal`` (256-level ziggurat): new state and the draw."""
    while True:
        lo, hi, r = _pcg_next(lo, hi, ilo, ihi)
        idx = np.intp(r & np.uint64(0xFF))
        r >>= np.uint64(8)
        rabs = (r >> _U64_1) & np.uint64(0x000FFFFFFFFFFFFF)
        x = rabs * _ZIG_WI[idx]
        if r & _U64_1:
            x = -x
        if rabs < _ZIG_KI[idx]:
            return lo, hi, x
        if idx == 0:
            while True:
                lo, hi, u = _pcg_next(lo, hi, ilo, ihi)
                xx = -_ZIG_INV_R * np.log1p(-_u01(u))
                lo, hi, u = _pcg_next(lo, hi, ilo, ihi)
                yy = -np.log1p(-_u01(u))
                if yy + yy > xx * xx:
                    if (rabs >> np.uint64(8)) & _U64_1:
                        return lo, hi, -(_ZIG_R + xx)
                    return lo, hi, _ZIG_R + xx
        else:
            lo, hi, u = _pcg_next(lo, hi, ilo, ihi)
            if (_ZIG_FI[idx - 1] - _ZIG_FI[idx]) * _u01(u) + _ZIG_FI[idx] < np.exp(-0.5 * x * x):
                return lo, hi, x


@njit(cache=True, inline="always")
def draw_rep(st, plan, demand, lead):
    """One replication's draws from stream state ``st`` (advanced), the same numbers as
    ``draws.make_draws`` for networks whose demand is constant or normal and whose stochastic
    lead times are all normal, without random closures (``draws.kernel_plan``).

    ``plan`` is ``(dc_cols, dc_val, dn_cols, dn_mu, dn_sd, ln_mu, ln_sd, ln_cap)``
    (``draws.KernelPlan.arrays``). demand[T, nd]: constant columns ``dc_cols``; normal columns
    ``dn_cols``, drawn period by period (``standard_normal((T, k))``), ``max(0, z * sd + mu)``.
    lead[T, ns]: lane by lane, T draws each, ``clip(ceil(mu + sd * z - 1e-9), 0, cap)``.
    """
    dc_cols, dc_val, dn_cols, dn_mu, dn_sd, ln_mu, ln_sd, ln_cap = plan
    lo, hi, ilo, ihi = st[0], st[1], st[2], st[3]
    T = demand.shape[0]
    for t in range(T):
        for i in range(dc_cols.shape[0]):
            demand[t, dc_cols[i]] = dc_val[i]
        for i in range(dn_cols.shape[0]):
            lo, hi, z = _std_normal(lo, hi, ilo, ihi)
            v = z * dn_sd[i] + dn_mu[i]
            demand[t, dn_cols[i]] = v if v >= 0.0 else 0.0
    for c in range(ln_mu.shape[0]):
        for t in range(T):
            lo, hi, z = _std_normal(lo, hi, ilo, ihi)
            v = np.ceil((ln_mu[c] + ln_sd[c] * z) - 1e-9)
            if v < 0.0:
                v = 0.0
            if v > ln_cap[c]:
                v = ln_cap[c]
            lead[t, c] = np.int64(v)
    st[0] = lo
    st[1] = hi


@njit(cache=True, parallel=True)
def draw_batch(states, plan, demand, lead):
    """:func:`draw_rep` for every replication (row) of ``states``, in parallel."""
    for r in prange(states.shape[0]):
        draw_rep(states[r], plan, demand[r], lead[r])


# --------------------------------------------------------------------------- simulation
# The network's arrays, read-only in the kernels, travel as one tuple ``net``
# (``CompiledNetwork.kernel_net``), in this order:
#   NP, NI, LF, LI, in_ptr, in_lane, out_ptr, out_lane, delays, has_zero (a flag), init_oh,
#   closures, spikes_i, spikes_f
# A function unpacks the part it uses; the functions of the simulation loop that take ``net`` are
# inlined, and unpack it once a period (not once a node: see ship_order_step).


@njit(cache=True, inline="always")
def local_net(net):
    """Thread-local copies of ``net``: reference counting on arrays shared between threads is
    costly."""
    NP, NI, LF, LI, in_ptr, in_lane, out_ptr, out_lane, delays = net[:9]
    has_zero, init_oh, closures, spikes_i, spikes_f = net[9:]
    return (
        NP.copy(), NI.copy(), LF.copy(), LI.copy(), in_ptr.copy(), in_lane.copy(), out_ptr.copy(),
        out_lane.copy(), delays.copy(), has_zero, init_oh.copy(), closures.copy(), spikes_i.copy(),
        spikes_f.copy(),
    )  # fmt: skip


@njit(cache=True, inline="always")
def local_plan(plan):
    """Thread-local copies of a draw plan (see :func:`draw_rep`)."""
    dc_cols, dc_val, dn_cols, dn_mu, dn_sd, ln_mu, ln_sd, ln_cap = plan
    return (
        dc_cols.copy(), dc_val.copy(), dn_cols.copy(), dn_mu.copy(), dn_sd.copy(), ln_mu.copy(),
        ln_sd.copy(), ln_cap.copy(),
    )  # fmt: skip


@njit(cache=True, inline="always")
def init_state(net, NS, LS, PIPE, closed_until):
    init_oh = net[10]
    NS[:, :] = 0.0
    LS[:, :] = 0.0
    PIPE[:, :] = 0.0
    closed_until[:] = 0
    for j in range(NS.shape[0]):
        NS[j, S_OH] = init_oh[j]
    for e in range(LS.shape[0]):
        LS[e, L_LAST] = -1.0


@njit(cache=True, inline="always")
def assemble(j, slot, LF, in_ptr, in_lane, NS, LS, PIPE):
    """Node j: take in the arrivals of ring slot ``slot`` on its inbound lanes, then make as many
    units as it has complete input sets for (at most its on-order quantity).

    Sets ``NS[j, S_FULL]`` to 1 when every input buffer is left non-empty (the node could make
    more without new arrivals once it has something on order), else 0.
    """
    oo = NS[j, S_OO]
    y = oo
    full = 1.0
    for k in range(in_ptr[j], in_ptr[j + 1]):
        e = in_lane[k]
        x = PIPE[e, slot]
        b = LS[e, L_BUF]
        if x != 0.0:
            PIPE[e, slot] = 0.0
            b += x
            LS[e, L_BUF] = b
            LS[e, L_TRANSIT] -= x
        if b <= 0.0:
            full = 0.0
        qty = LF[e, LF_QTY]
        v = b if qty == 1.0 else b / qty  # b / 1.0 == b exactly
        if v < y:
            y = v
    # y <= oo, so nothing is made when nothing is on order
    if y > 0.0:
        full = 1.0
        for k in range(in_ptr[j], in_ptr[j + 1]):
            e = in_lane[k]
            b = LS[e, L_BUF] - LF[e, LF_QTY] * y
            if b > 0.0:
                LS[e, L_BUF] = b
            else:
                LS[e, L_BUF] = 0.0
                full = 0.0
        NS[j, S_OH] += y
        NS[j, S_OO] = oo - y
    NS[j, S_FULL] = full


@njit(cache=True, inline="always")
def may_assemble(j, slot, in_ptr, in_lane, NS, PIPE):
    """Whether :func:`assemble` can change anything at node j: something arrives in ``slot``,
    or all its input buffers are non-empty (``S_FULL``; buffers change only in ``assemble``),
    or it has no inputs. Otherwise some buffer is empty and stays so: nothing can be made, and
    ``assemble`` would leave the state as it is."""
    p0 = in_ptr[j]
    p1 = in_ptr[j + 1]
    if NS[j, S_FULL] > 0.0 or p0 == p1:
        return True
    for k in range(p0, p1):  # noqa: SIM110 (a plain loop for numba)
        if PIPE[in_lane[k], slot] != 0.0:
            return True
    return False


@njit(cache=True, inline="always")
def begin_period(t, net, demand_t, onset_t, duration_t, NS, LS, PIPE, closed_until):
    """Steps 1-2: disruptions in force, receive, observe external demand.

    One pass over the nodes (each node's closure state, receipt and demand depend on that node
    only), then the scheduled closures. Without random closures ``closed_until`` stays 0, so
    ``S_CLOSED`` is 0 but for scheduled closures (and is left alone when there are none).
    """
    NP, NI, LF, _, in_ptr, in_lane = net[:6]
    closures, spikes_i, spikes_f = net[11:]
    n = NS.shape[0]
    slot = t % PIPE.shape[1]
    random_closures = onset_t.shape[0] > 0
    reset_closed = random_closures or closures.shape[0] > 0
    for j in range(n):
        if random_closures:
            c = NI[j, NI_RCCOL]
            if c >= 0 and closed_until[j] <= t and onset_t[c] < NP[j, NP_RCPROB]:
                closed_until[j] = t + duration_t[c]
            NS[j, S_CLOSED] = 1.0 if closed_until[j] > t else 0.0
        elif reset_closed:
            NS[j, S_CLOSED] = 0.0
        if may_assemble(j, slot, in_ptr, in_lane, NS, PIPE):
            assemble(j, slot, LF, in_ptr, in_lane, NS, LS, PIPE)
        c = NI[j, NI_DEMCOL]
        if c < 0:
            NS[j, S_DNEW] = 0.0
            continue
        d = demand_t[c]
        for w in range(spikes_i.shape[0]):
            if (spikes_i[w, 0] == j or spikes_i[w, 0] < 0) and spikes_i[w, 1] <= t < spikes_i[w, 2]:
                d *= spikes_f[w]
        NS[j, S_DNEW] = d
        NS[j, S_BO] += d
    for w in range(closures.shape[0]):
        if closures[w, 1] <= t < closures[w, 2]:
            NS[closures[w, 0], S_CLOSED] = 1.0


@njit(cache=True, inline="always")
def policy_quantity(code, position, p1, p2):
    """Order quantity of a policy given the (local or echelon) inventory position.

    The threshold tests of (s, S) and (r, Q) treat a position within ``EPS * (1 + |s| + |IP|)``
    of a threshold as equal to it (docs/model.md, step 4): an exact tie (``IP = s``, or
    ``IP + n*Q = r``) is decided by the model, not by the float rounding of the position.
    """
    if code == 0 or code == 1:  # base stock / echelon base stock: order up to p1
        q = p1 - position
        return q if q > 0.0 else 0.0
    tol = EPS * (1.0 + abs(p1) + abs(position))
    if code == 2:  # (s, S): order when IP <= s
        return p2 - position if position <= p1 + tol else 0.0
    # (r, Q): the least n with IP + n*Q > r (a tie IP + n*Q = r is not above r)
    if position > p1 + tol:
        return 0.0
    return (np.floor((p1 - position + tol) / p2) + 1.0) * p2


@njit(cache=True, inline="always")
def ship_on_lane(e, x, t, LI, delays, lead_t, LS, PIPE):
    """Send ``x`` units on lane ``e`` in period ``t``; shipments on a lane never overtake."""
    L = LI[e, LI_LTFIX]
    if L < 0:
        L = lead_t[LI[e, LI_LTCOL]]
    dst = LI[e, LI_DST]
    for w in range(delays.shape[0]):
        if delays[w, 0] == dst and delays[w, 1] <= t < delays[w, 2]:
            L += delays[w, 3]
    arrival = float(t + L)
    if arrival < LS[e, L_LAST]:
        arrival = LS[e, L_LAST]
    LS[e, L_LAST] = arrival
    PIPE[e, int(arrival) % PIPE.shape[1]] += x
    LS[e, L_TRANSIT] += x


@njit(cache=True, inline="always")
def _new_filled(shipped, requirement, new):
    """Units of this period's new demand shipped this period (the backlog is served first)."""
    f = shipped - (requirement - new)
    if f < 0.0:
        return 0.0
    return f if f < new else new


@njit(cache=True, inline="always")
def ship_node(j, t, NI, LF, LI, out_ptr, out_lane, delays, lead_t, NS, LS, PIPE):
    """Step 3 for node j: ship backlog + new requirements; ration, backorder or lose.

    Rationing when short: *proportional* gives every customer (external demand as one customer,
    each outbound lane as one) the same fraction of its requirement; *priority* serves external
    demand first, then lanes by the customer's ``priority`` (then file order).
    """
    # the inventory position before shipping; shipping moves units between its terms, so after
    # shipping it is this plus what is lost or cancelled (kept exact: float rounding of rationed
    # shipments must not decide the policies' thresholds)
    req_ext = NS[j, S_BO]
    ipos = NS[j, S_OH] + NS[j, S_OO] - req_ext
    total = req_ext
    for k in range(out_ptr[j], out_ptr[j + 1]):
        e = out_lane[k]
        bl = LS[e, L_BL]
        ipos -= bl
        total += bl
        LS[e, L_SHIP] = 0.0
        LS[e, L_FILL] = 0.0
    NS[j, S_IPOS] = ipos
    canc = 0.0
    NS[j, S_LOST] = 0.0
    NS[j, S_SHORT] = 0.0
    NS[j, S_SEXT] = 0.0
    NS[j, S_EFILL] = 0.0
    if total <= 0.0:
        return
    closed = NS[j, S_CLOSED] > 0.0
    avail = 0.0 if closed else NS[j, S_OH]
    if avail >= total:
        f = 1.0
        NS[j, S_OH] = avail - total
    else:
        f = avail / total
        if not closed:
            NS[j, S_OH] = 0.0
        # a stockout is a shortfall beyond float rounding (dust from rationing and BOM arithmetic)
        if total - avail > EPS * (1.0 + total):
            NS[j, S_SHORT] = 1.0
    lost_mode = NI[j, NI_LOST] == 1
    priority = NI[j, NI_PRIORITY] == 1 and f < 1.0
    rem = avail
    if req_ext > 0.0:
        s = req_ext * f
        if priority:
            s = req_ext if req_ext < rem else rem
            rem -= s
        NS[j, S_SEXT] = s
        NS[j, S_EFILL] = _new_filled(s, req_ext, NS[j, S_DNEW])
        left = req_ext - s
        if lost_mode:
            NS[j, S_LOST] = left
            NS[j, S_BO] = 0.0
        else:
            NS[j, S_BO] = left
    for k in range(out_ptr[j], out_ptr[j + 1]):
        e = out_lane[k]
        r = LS[e, L_BL]
        if r <= 0.0:
            continue
        s = r * f
        if priority:
            s = r if r < rem else rem
            rem -= s
        if s > 0.0:
            ship_on_lane(e, s, t, LI, delays, lead_t, LS, PIPE)
            LS[e, L_SHIP] = s
            LS[e, L_FILL] = _new_filled(s, r, LS[e, L_NEWQ])
        left = r - s
        if lost_mode and left > 0.0:
            LS[e, L_BL] = 0.0
            # the unshipped part of the customer's order is cancelled
            dst = LI[e, LI_DST]
            cut = left / LF[e, LF_QTY]
            oo = NS[dst, S_OO] - cut
            NS[dst, S_OO] = oo if oo > 0.0 else 0.0
            NS[dst, S_EIP] -= cut
            canc += left
        else:
            LS[e, L_BL] = left
    if lost_mode:
        NS[j, S_IPOS] = ipos + NS[j, S_LOST] + canc


@njit(cache=True, inline="always")
def order_node(
    j, t, use_policy, action, NP, NI, LF, LI, in_ptr, in_lane, out_ptr, out_lane, delays, lead_t,
    NS, LS, PIPE,
):  # fmt: skip
    """Step 4 for node j: policy (or ``action[j]``) -> order rules -> place the order.

    Its customers have ordered already (downstream first), so their echelon positions are known.
    """
    ip = NS[j, S_IPOS]  # local inventory position after shipping (see ship_node)
    down = 0.0
    for k in range(out_ptr[j], out_ptr[j + 1]):
        e = out_lane[k]
        down += LF[e, LF_QTY] * NS[LI[e, LI_DST], S_EIP]
    eip = ip + down
    if use_policy:
        code = NI[j, NI_POL]
        pos = eip if code == 1 else ip
        q = policy_quantity(code, pos, NP[j, NP_POL1], NP[j, NP_POL2])
    else:
        q = action[j]
    q = round_order(q, NP[j, NP_MOQ], NP[j, NP_LOT], NP[j, NP_CAP])
    NS[j, S_Q] = q
    NS[j, S_EIP] = eip + q
    if q > 0.0:
        NS[j, S_OO] += q
        for k in range(in_ptr[j], in_ptr[j + 1]):
            e = in_lane[k]
            amt = LF[e, LF_QTY] * q
            if LI[e, LI_SRC] < 0:
                LS[e, L_NEWQ] = 0.0
                ship_on_lane(e, amt, t, LI, delays, lead_t, LS, PIPE)
            else:
                LS[e, L_BL] += amt
                LS[e, L_NEWQ] = amt
    else:
        for k in range(in_ptr[j], in_ptr[j + 1]):
            LS[in_lane[k], L_NEWQ] = 0.0


@njit(cache=True, inline="always")
def ship_order_step(t, use_policy, action, net, lead_t, NS, LS, PIPE):
    """Steps 3-4 for every node from downstream to upstream: ship, then order.

    A node ships after its customers ordered (their orders are demand at it in the same period)
    and orders after it shipped (so lost sales and cancelled orders are known when it orders).

    ``net`` is unpacked here, once a period: unpacking it in the node functions, once a node,
    costs a third of the kernel's speed.
    """
    NP, NI, LF, LI, in_ptr, in_lane, out_ptr, out_lane, delays = net[:9]
    for j in range(NS.shape[0] - 1, -1, -1):
        ship_node(j, t, NI, LF, LI, out_ptr, out_lane, delays, lead_t, NS, LS, PIPE)
        order_node(
            j, t, use_policy, action, NP, NI, LF, LI, in_ptr, in_lane, out_ptr, out_lane, delays,
            lead_t, NS, LS, PIPE,
        )  # fmt: skip


@njit(cache=True, inline="always")
def end_period(t, count, net, NS, LS, PIPE, ACC, cost_out):
    """Step 5: receive zero-lead-time shipments, count costs and KPIs (if ``count``).

    ``cost_out[j]`` receives node j's cost of the period (holding + pipeline + penalty + order).
    """
    NP, NI, LF, _, in_ptr, in_lane, out_ptr, out_lane, _, has_zero = net[:10]
    n = NS.shape[0]
    slot = t % PIPE.shape[1]
    for j in range(n):
        # zero-lead-time receipts, node by node (assembling a node changes only it and its
        # inbound lanes)
        if has_zero and may_assemble(j, slot, in_ptr, in_lane, NS, PIPE):
            assemble(j, slot, LF, in_ptr, in_lane, NS, LS, PIPE)
        oh = NS[j, S_OH]
        hold = NP[j, NP_H] * oh
        pipe = 0.0
        transit = 0.0
        for k in range(in_ptr[j], in_ptr[j + 1]):
            e = in_lane[k]
            units = LS[e, L_TRANSIT] + LS[e, L_BUF]
            pipe += LF[e, LF_HSRC] * units
            transit += LS[e, L_TRANSIT]
        lost_mode = NI[j, NI_LOST] == 1
        pen = NP[j, NP_P] * (NS[j, S_LOST] if lost_mode else NS[j, S_BO])
        q = NS[j, S_Q]
        ordc = NP[j, NP_K] if q > 0.0 else 0.0
        cost_out[j] = hold + pipe + pen + ordc
        short = NS[j, S_SHORT] > 0.0
        if short:
            NS[j, S_CYC] = 1.0
        if not count:
            if q > 0.0:
                NS[j, S_CYC] = 0.0
            continue
        dnew = NS[j, S_DNEW]
        ext_fill = NS[j, S_EFILL]
        dem = dnew
        fill = ext_fill
        shipped = NS[j, S_SEXT]
        intbo = 0.0
        for k in range(out_ptr[j], out_ptr[j + 1]):
            e = out_lane[k]
            dem += LS[e, L_NEWQ]
            shipped += LS[e, L_SHIP]
            fill += LS[e, L_FILL]
            intbo += LS[e, L_BL]
        ACC[j, K_HOLD] += hold
        ACC[j, K_PIPE] += pipe
        ACC[j, K_PEN] += pen
        ACC[j, K_ORD] += ordc
        ACC[j, K_OH] += oh
        ACC[j, K_BO] += NS[j, S_BO]
        ACC[j, K_EXTDEM] += dnew
        ACC[j, K_EXTFILL] += ext_fill
        ACC[j, K_LOST] += NS[j, S_LOST]
        ACC[j, K_SHORT] += 1.0 if short else 0.0
        ACC[j, K_DEM] += dem
        ACC[j, K_FILL] += fill
        ACC[j, K_SHIP] += shipped
        ACC[j, K_TRANSIT] += transit
        ACC[j, K_INTBO] += intbo
        if q > 0.0:
            ACC[j, K_NORD] += 1.0
            ACC[j, K_QORD] += q
            ACC[j, K_CYC] += 1.0
            ACC[j, K_CYCBAD] += NS[j, S_CYC]
            NS[j, S_CYC] = 0.0


@njit(cache=True)
def run_one(net, horizon, demand, lead, onset, duration, warmup, ACC, TR):
    """Simulate one replication over ``demand.shape[0]`` periods with the policies in NP/NI.

    KPIs of periods ``t >= warmup`` are added to ``ACC``; when ``TR`` has rows, the state of every
    period is recorded in it (``TR[t, j, T_*]``).
    """
    S, D = _workspace(net, horizon, demand.shape, lead.shape, onset.shape)
    run_rep(net, demand, lead, onset, duration, warmup, ACC, TR, S, D)


@njit(cache=True)
def _workspace(net, horizon, dshape, lshape, oshape):
    """Scratch arrays of a replication, reused from one replication to the next by a thread.

    Allocating (and freeing) them for every replication costs page faults and, with several
    threads, contention in the allocator. The replication's draws are copied in, so the
    per-period row views do not touch the reference count of an array shared between threads.

    Returns the state ``S = (NS, LS, PIPE, closed_until, cost)`` and the draws
    ``D = (demand, lead, onset, duration)``. The draws are unpacked once and passed on as arrays:
    in a ``prange`` body, numba's dead-code elimination does not see through tuples, and drops
    writes to an array that is read back only through another unpacking of its tuple.
    """
    n = net[0].shape[0]  # NP: one row a node
    m = net[2].shape[0]  # LF: one row a lane
    NS = np.zeros((n, N_S))
    LS = np.zeros((m, N_L))
    # the pipeline ring, slot-major in memory: receiving scans one slot of every lane
    PIPE = np.zeros((horizon, m)).T
    closed_until = np.zeros(n, dtype=np.int64)
    cost = np.zeros(n)
    dem = np.empty(dshape)
    lead = np.empty(lshape, dtype=np.int64)
    onset = np.empty(oshape)
    duration = np.empty(oshape, dtype=np.int64)
    return (NS, LS, PIPE, closed_until, cost), (dem, lead, onset, duration)


@njit(cache=True, inline="always")
def run_rep(net, demand_r, lead_r, onset_r, duration_r, warmup, ACC, TR, S, D):
    """One replication in the workspace ``S, D`` (see :func:`run_one`)."""
    demand, lead, onset, duration = D
    demand[:, :] = demand_r
    lead[:, :] = lead_r
    onset[:, :] = onset_r
    duration[:, :] = duration_r
    simulate_rep(net, warmup, ACC, TR, S, demand, lead, onset, duration)


@njit(cache=True, inline="always")
def simulate_rep(net, warmup, ACC, TR, S, demand, lead, onset, duration):
    """One replication in the state arrays ``S`` on the given draws (see :func:`_workspace`)."""
    NS, LS, PIPE, closed_until, cost = S
    noaction = np.zeros(0)
    init_state(net, NS, LS, PIPE, closed_until)
    trace = TR.shape[0] > 0
    for t in range(demand.shape[0]):
        begin_period(t, net, demand[t], onset[t], duration[t], NS, LS, PIPE, closed_until)
        ship_order_step(t, True, noaction, net, lead[t], NS, LS, PIPE)
        end_period(t, t >= warmup, net, NS, LS, PIPE, ACC, cost)
        if trace:
            record(t, NS, cost, TR)


@njit(cache=True, inline="always")
def record(t, NS, cost, TR):
    for j in range(NS.shape[0]):
        TR[t, j, T_OH] = NS[j, S_OH]
        TR[t, j, T_BO] = NS[j, S_BO]
        TR[t, j, T_OO] = NS[j, S_OO]
        TR[t, j, T_Q] = NS[j, S_Q]
        TR[t, j, T_COST] = cost[j]
        TR[t, j, T_SHIPPED] = NS[j, S_SEXT]


@njit(cache=True, parallel=True)
def run_batch(net, horizon, demand, lead, onset, duration, warmup, ACC):
    """Replications in parallel: ``ACC[r]`` gets replication r's KPI sums.

    The replications are split into up to ``BLOCKS`` contiguous blocks, shared among the threads;
    a block copies the network arrays and allocates its workspace once (results do not depend on
    the blocks).
    """
    R = demand.shape[0]
    nb = min(R, BLOCKS)
    for b in prange(nb):
        bnet = local_net(net)
        notrace = np.zeros((0, 0, N_T))
        S, D = _workspace(bnet, horizon, demand.shape[1:], lead.shape[1:], onset.shape[1:])
        for r in range(b * R // nb, (b + 1) * R // nb):
            run_rep(bnet, demand[r], lead[r], onset[r], duration[r], warmup, ACC[r], notrace, S, D)


@njit(cache=True, parallel=True)
def run_batch_drawn(net, horizon, states, periods, plan, warmup, ACC):
    """:func:`run_batch`, each replication drawing its own random numbers first
    (:func:`draw_rep` from ``states[r]``, advanced) into its thread's workspace: no draw arrays
    for the whole batch (made, written to memory and read back), and the drawing runs in
    parallel. Same draws, same results as ``make_draws`` + :func:`run_batch`.
    """
    R = states.shape[0]
    dc_cols, _, dn_cols, _, _, ln_mu, _, _ = plan
    nd = dc_cols.shape[0] + dn_cols.shape[0]
    ns = ln_mu.shape[0]
    nb = min(R, BLOCKS)
    for b in prange(nb):
        bnet = local_net(net)
        bplan = local_plan(plan)
        st = np.empty(4, dtype=np.uint64)
        notrace = np.zeros((0, 0, N_T))
        S, D = _workspace(bnet, horizon, (periods, nd), (periods, ns), (periods, 0))
        for r in range(b * R // nb, (b + 1) * R // nb):
            st[:] = states[r]
            draw_run_rep(bnet, st, bplan, warmup, ACC[r], notrace, S, D)


@njit(cache=True, parallel=True)
def run_items(net, NPs, LFs, inits, horizon, demand, lead, warmup, ACC):
    """Items of one network structure × their replications in parallel (``sim.items``).

    ``net`` is the structure (:func:`local_net`'s layout; its NP, LF and initial on-hand are
    replaced per item by ``NPs[i]``, ``LFs[i]``, ``inits[i]``); ``demand[i, r]`` and
    ``lead[i, r]`` are the draws of replication r of item i, ``ACC[i, r]`` gets its KPI sums.
    The (item, replication) pairs are split into up to ``BLOCKS`` contiguous blocks; results
    do not depend on the blocks. No random closures (no onset/duration draws).
    """
    n_items, R, T = demand.shape[0], demand.shape[1], demand.shape[2]
    total = n_items * R
    nb = min(total, BLOCKS)
    for b in prange(nb):
        bnet = local_net(net)
        NP, LF, init_oh = bnet[0], bnet[2], bnet[10]
        notrace = np.zeros((0, 0, N_T))
        noonset = np.zeros((T, 0))
        noduration = np.zeros((T, 0), dtype=np.int64)
        S, D = _workspace(bnet, horizon, demand.shape[2:], lead.shape[2:], (T, 0))
        cur = -1
        for k in range(b * total // nb, (b + 1) * total // nb):
            i = k // R
            if i != cur:
                NP[:, :] = NPs[i]
                LF[:, :] = LFs[i]
                init_oh[:] = inits[i]
                cur = i
            r = k - i * R
            run_rep(
                bnet, demand[i, r], lead[i, r], noonset, noduration, warmup, ACC[i, r], notrace,
                S, D,
            )  # fmt: skip


@njit(cache=True, inline="always")
def draw_run_rep(net, st, plan, warmup, ACC, TR, S, D):
    """One replication: its draws from stream state ``st`` into ``D``, then the simulation."""
    demand, lead, onset, duration = D
    draw_rep(st, plan, demand, lead)
    simulate_rep(net, warmup, ACC, TR, S, demand, lead, onset, duration)


# --------------------------------------------------------------------------- step engine
# Batched period functions of the step engine (echelon.sim.step). They live in this file so that
# numba's on-disk cache, which is keyed to the defining file, is invalidated together with the
# period functions they inline.


@njit(cache=True, inline="always")
def begin_env(t, b, net, demand, onset, duration, NS, LS, PIPE, closed_until):
    """:func:`begin_period` ``t`` of environment ``b`` (its draws and state: row b)."""
    begin_period(
        t, net, demand[b, t], onset[b, t], duration[b, t], NS[b], LS[b], PIPE[b], closed_until[b]
    )


@njit(cache=True)
def reset_batch(net, demand, onset, duration, NS, LS, PIPE, closed_until):
    for b in range(NS.shape[0]):
        init_state(net, NS[b], LS[b], PIPE[b], closed_until[b])
        begin_env(0, b, net, demand, onset, duration, NS, LS, PIPE, closed_until)


@njit(cache=True)
def step_batch(
    t, count, orders, net, demand, lead, onset, duration, NS, LS, PIPE, closed_until, ACC, cost
):
    T = demand.shape[1]
    for b in range(NS.shape[0]):
        ship_order_step(t, False, orders[b], net, lead[b, t], NS[b], LS[b], PIPE[b])
        end_period(t, count, net, NS[b], LS[b], PIPE[b], ACC[b], cost[b])
        if t + 1 < T:
            begin_env(t + 1, b, net, demand, onset, duration, NS, LS, PIPE, closed_until)


@njit(cache=True)
def policy_orders_batch(t, net, lead, NS, LS, PIPE, out):
    noaction = np.zeros(0)
    for b in range(NS.shape[0]):
        ns = NS[b].copy()
        ls = LS[b].copy()
        pipe = PIPE[b].copy()
        ship_order_step(t, True, noaction, net, lead[b, t], ns, ls, pipe)
        for j in range(ns.shape[0]):
            out[b, j] = ns[j, S_Q]
