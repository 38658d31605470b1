/* Compiled helpers for answering a question (bot.index): exhaustive BM25 scoring of a
 * question's postings with the best k picked in the same pass, and which passages hold which
 * of the question's terms (the evidence of bot.search).
 *
 * Optional: when this module is not built (no C compiler), bot.index does the same in numpy.
 * The tests compare both with brute-force scoring.
 *
 * Same floating-point operations as the numpy code: each term's contribution times its weight
 * (skipped when the weight is 1.0), added to the passage's sum in question order, in IEEE
 * double precision without contraction into fused multiply-adds (built with
 * -ffp-contract=off), so the sums are bit for bit those of ``np.add.at``.
 *
 * Arrays are read through the buffer protocol; their types and sizes are checked here, and so
 * is every passage number before it is used as an offset.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <math.h>
#include <string.h>

typedef struct {
    Py_buffer view;
    int held;
} Buf;

/* A C-contiguous buffer of items of ``size`` bytes whose struct format ends with ``code``. */
static int get_buf(PyObject *obj, Buf *b, char code, Py_ssize_t size, int writable,
                   const char *name) {
    int flags = PyBUF_C_CONTIGUOUS | PyBUF_FORMAT | (writable ? PyBUF_WRITABLE : 0);
    if (PyObject_GetBuffer(obj, &b->view, flags) < 0) return -1;
    b->held = 1;
    const char *f = b->view.format;
    size_t lf = f ? strlen(f) : 0;
    if (b->view.itemsize != size || lf == 0 || f[lf - 1] != code || b->view.ndim != 1) {
        PyErr_Format(PyExc_TypeError, "%s: expected a 1-d array of '%c' items", name, code);
        return -1;
    }
    return 0;
}

static void release(Buf *b, int n) {
    for (int i = 0; i < n; i++)
        if (b[i].held) PyBuffer_Release(&b[i].view);
}

static inline Py_ssize_t length(const Buf *b) { return b->view.len / b->view.itemsize; }

/* (a, da) ranks before (b, db): the higher score first, ties by the lower passage. */
static inline int better(double a, int32_t da, double b, int32_t db) {
    return a > b || (a == b && da < db);
}

typedef struct {
    Py_ssize_t s, e;
    double w;
} Span;

/* Insert (v, d) into out_v/out_d, sorted best first, holding *n of at most k entries. */
static inline void keep_best(double v, int32_t d, double *out_v, int32_t *out_d, Py_ssize_t *n,
                             Py_ssize_t k) {
    if (*n == k && !better(v, d, out_v[k - 1], out_d[k - 1])) return;
    Py_ssize_t at = *n < k ? (*n)++ : k - 1;
    while (at > 0 && better(v, d, out_v[at - 1], out_d[at - 1])) {
        out_v[at] = out_v[at - 1];
        out_d[at] = out_d[at - 1];
        at--;
    }
    out_v[at] = v;
    out_d[at] = d;
}

/* Every posting of the spans summed into acc (in span order: question order), the best k
 * distinct passages written to out_d/out_v; acc and slot (n_docs each) left zeroed; touched
 * holds n_docs + 1. Returns how many were written, or -1 for a passage number outside
 * [0, n_docs) (nothing left written).
 *
 * Up to COMPACT postings, each passage's sum is kept in a compact array instead (the first
 * entries of acc, in the order the passages are first met; slot[d] its place): the passages'
 * slots (2 bytes each) are the only memory read out of order, where the sums over all passages
 * (8 bytes each) would be; the sums are the same additions in the same order. */
#define COMPACT 65535
static Py_ssize_t exhaustive(const int32_t *restrict docs, const double *restrict scores,
                             const Span *restrict sp, Py_ssize_t n_occ, Py_ssize_t total,
                             Py_ssize_t n_docs, double *restrict acc, uint16_t *restrict slot,
                             int32_t *restrict touched, int32_t *restrict out_d,
                             double *restrict out_v, Py_ssize_t k) {
    Py_ssize_t n_touched = 0;
    int bad = 0;
    const int compact = total <= COMPACT && total < n_docs;
    for (Py_ssize_t i = 0; i < n_occ && !bad; i++) {
        const double w = sp[i].w;
        const Py_ssize_t e = sp[i].e;
        for (Py_ssize_t p = sp[i].s; p < e; p++) {
            const int32_t d = docs[p];
            if (d < 0 || d >= n_docs) {
                bad = 1;
                break;
            }
            const double x = w == 1.0 ? scores[p] : w * scores[p];
            if (compact) {
                /* (branch-free: whether a passage was met before is not predictable) */
                const uint16_t s0 = slot[d];
                const uint16_t s = s0 ? s0 : (uint16_t)(n_touched + 1);
                n_touched += !s0;
                slot[d] = s;
                touched[s] = d;
                acc[s] += x;
            } else {
                touched[n_touched] = d;
                n_touched += !slot[d];
                slot[d] = 1;
                acc[d] += x;
            }
        }
    }
    /* the best k, kept sorted best first (insertion: most passages fall below the last, which
     * is held in registers) */
    Py_ssize_t n = 0;
    double last_v = 0.0;
    int32_t last_d = 0;
    for (Py_ssize_t j = 0; j < n_touched; j++) {
        const int32_t d = compact ? touched[j + 1] : touched[j];
        double *at = compact ? acc + j + 1 : acc + d;
        const double v = *at;
        *at = 0.0;
        slot[d] = 0;
        if (bad || k < 1 || (n == k && !better(v, d, last_v, last_d))) continue;
        keep_best(v, d, out_v, out_d, &n, k);
        last_v = out_v[n - 1];
        last_d = out_d[n - 1];
    }
    return bad ? -1 : n;
}

PyDoc_STRVAR(rank_doc,
"rank(post_ptr, post_docs, post_scores, term_max, term_ids, weights, acc, slot, touched,\n"
"     out_docs, out_vals, up_to) -> n\n\n"
"BM25Index.top_k with k = len(out_docs): every posting of the question's terms summed into\n"
"acc (float64 [passages], zeroed; slot: uint16 [passages], touched: int32 [passages + 1],\n"
"zeroed: all three left so), the best passages by (-score, passage) written to\n"
"out_docs/out_vals; returns how\n"
"many. -1 leaves the question to the Python code: more than ``up_to`` postings, a term id\n"
"outside the index, a weight or bound that is not finite, weights not one per term.");

static PyObject *rank(PyObject *self, PyObject *args) {
    PyObject *o[11];
    Py_ssize_t up_to;
    if (!PyArg_ParseTuple(args, "OOOOOOOOOOOn", &o[0], &o[1], &o[2], &o[3], &o[4], &o[5],
                          &o[6], &o[7], &o[8], &o[9], &o[10], &up_to))
        return NULL;
    Buf b[9];
    memset(b, 0, sizeof b);
    PyObject *ids = NULL, *ws = NULL, *result = NULL;
    Span *occ = NULL;
    Py_ssize_t *tid = NULL;
    if (get_buf(o[0], &b[0], 'l', 8, 0, "post_ptr") < 0 ||
        get_buf(o[1], &b[1], 'i', 4, 0, "post_docs") < 0 ||
        get_buf(o[2], &b[2], 'd', 8, 0, "post_scores") < 0 ||
        get_buf(o[3], &b[3], 'd', 8, 0, "term_max") < 0 ||
        get_buf(o[6], &b[4], 'd', 8, 1, "acc") < 0 || get_buf(o[7], &b[5], 'H', 2, 1, "slot") < 0 ||
        get_buf(o[8], &b[6], 'i', 4, 1, "touched") < 0 ||
        get_buf(o[9], &b[7], 'i', 4, 1, "out_docs") < 0 ||
        get_buf(o[10], &b[8], 'd', 8, 1, "out_vals") < 0)
        goto done;
    const Py_ssize_t n_vocab = length(&b[3]), n_post = length(&b[1]), n_docs = length(&b[4]);
    const Py_ssize_t k = length(&b[7]);
    if (length(&b[0]) != n_vocab + 1 || length(&b[2]) != n_post || length(&b[5]) != n_docs ||
        length(&b[6]) != n_docs + 1 || length(&b[8]) != k) {
        PyErr_SetString(PyExc_ValueError, "rank: array sizes differ");
        goto done;
    }
    const int64_t *ptr = b[0].view.buf;
    const double *term_max = b[3].view.buf;
    ids = PySequence_Fast(o[4], "term_ids: expected a sequence");
    if (ids == NULL) goto done;
    const Py_ssize_t n_ids = PySequence_Fast_GET_SIZE(ids);
    if (o[5] != Py_None) {
        ws = PySequence_Fast(o[5], "weights: expected a sequence");
        if (ws == NULL) goto done;
        if (PySequence_Fast_GET_SIZE(ws) != n_ids) { /* (the Python code says how) */
            result = PyLong_FromLong(-1);
            goto done;
        }
    }
    const size_t cap = (size_t)(n_ids ? n_ids : 1);
    occ = PyMem_Malloc(sizeof(Span) * cap);
    tid = PyMem_Malloc(sizeof(Py_ssize_t) * cap);
    if (occ == NULL || tid == NULL) {
        PyErr_NoMemory();
        goto done;
    }
    /* (term's postings, weight) in question order, without weights of 0 and terms no passage
     * holds; the postings of the distinct terms counted, and |weight x largest score| summed
     * (finite: no sum can overflow, no NaN to order) */
    Py_ssize_t n_occ = 0, m = 0, total = 0;
    int ok = 1;
    double abs_sum = 0.0;
    for (Py_ssize_t i = 0; i < n_ids && ok; i++) {
        const Py_ssize_t t = PyNumber_AsSsize_t(PySequence_Fast_GET_ITEM(ids, i), NULL);
        if (t == -1 && PyErr_Occurred()) {
            PyErr_Clear();
            ok = 0;
            break;
        }
        double w = 1.0;
        if (ws != NULL) {
            w = PyFloat_AsDouble(PySequence_Fast_GET_ITEM(ws, i));
            if (w == -1.0 && PyErr_Occurred()) {
                PyErr_Clear();
                ok = 0;
                break;
            }
        }
        if (t < 0 || t >= n_vocab) {
            ok = 0;
            break;
        }
        const int64_t s = ptr[t], e = ptr[t + 1];
        if (s < 0 || s > e || e > n_post) {
            PyErr_SetString(PyExc_ValueError, "rank: postings outside the index");
            goto done;
        }
        if (w == 0.0 || e == s) continue;
        abs_sum += fabs(w * term_max[t]);
        Py_ssize_t u = 0;
        while (u < m && tid[u] != t) u++;
        if (u == m) {
            tid[m++] = t;
            total += e - s;
        }
        occ[n_occ].s = s;
        occ[n_occ].e = e;
        occ[n_occ++].w = w;
    }
    if (!ok || !isfinite(abs_sum) || total > up_to) {
        result = PyLong_FromLong(-1);
        goto done;
    }
    Py_ssize_t n = 0;
    if (n_occ > 0 && k > 0)
        n = exhaustive(b[1].view.buf, b[2].view.buf, occ, n_occ, total, n_docs, b[4].view.buf,
                       b[5].view.buf, b[6].view.buf, b[7].view.buf, b[8].view.buf, k);
    if (n < 0)
        PyErr_SetString(PyExc_ValueError, "rank: a passage number outside the index");
    else
        result = PyLong_FromSsize_t(n);
done:
    Py_XDECREF(ids);
    Py_XDECREF(ws);
    PyMem_Free(occ);
    PyMem_Free(tid);
    release(b, 9);
    return result;
}

PyDoc_STRVAR(contains_each_doc,
"contains_each(post_ptr, post_docs, dense_row, dense, term_ids, docs, out) -> None\n\n"
"out[r, j] (bool): whether passage docs[j] holds term term_ids[r]: its dense row (nonzero\n"
"where the term occurs) for a frequent term, else a binary search in its sorted postings.");

static PyObject *contains_each(PyObject *self, PyObject *args) {
    PyObject *o[7];
    if (!PyArg_UnpackTuple(args, "contains_each", 7, 7, &o[0], &o[1], &o[2], &o[3], &o[4],
                           &o[5], &o[6]))
        return NULL;
    Buf b[6];
    memset(b, 0, sizeof b);
    PyObject *seq = NULL, *result = NULL;
    if (get_buf(o[0], &b[0], 'l', 8, 0, "post_ptr") < 0 ||
        get_buf(o[1], &b[1], 'i', 4, 0, "post_docs") < 0 ||
        get_buf(o[2], &b[2], 'i', 4, 0, "dense_row") < 0)
        goto done;
    /* dense: [rows, passages] uint8 */
    if (PyObject_GetBuffer(o[3], &b[3].view, PyBUF_C_CONTIGUOUS | PyBUF_FORMAT) < 0) goto done;
    b[3].held = 1;
    if (b[3].view.ndim != 2 || b[3].view.itemsize != 1 || b[3].view.format == NULL ||
        b[3].view.format[strlen(b[3].view.format) - 1] != 'B') {
        PyErr_SetString(PyExc_TypeError, "dense: expected a 2-d uint8 array");
        goto done;
    }
    if (get_buf(o[5], &b[4], 'i', 4, 0, "docs") < 0) goto done;
    /* out: [terms, docs] bool */
    if (PyObject_GetBuffer(o[6], &b[5].view,
                           PyBUF_C_CONTIGUOUS | PyBUF_FORMAT | PyBUF_WRITABLE) < 0)
        goto done;
    b[5].held = 1;
    seq = PySequence_Fast(o[4], "term_ids: expected a sequence of ints");
    if (seq == NULL) goto done;
    const Py_ssize_t n_terms = PySequence_Fast_GET_SIZE(seq), n = length(&b[4]);
    const Py_ssize_t n_vocab = length(&b[2]), n_post = length(&b[1]);
    const Py_ssize_t n_rows = b[3].view.shape[0], n_pass = b[3].view.shape[1];
    if (b[5].view.ndim != 2 || b[5].view.itemsize != 1 || b[5].view.format == NULL ||
        b[5].view.format[strlen(b[5].view.format) - 1] != '?' ||
        b[5].view.shape[0] != n_terms || b[5].view.shape[1] != n) {
        PyErr_SetString(PyExc_TypeError, "out: expected a bool array [terms, docs]");
        goto done;
    }
    if (length(&b[0]) != n_vocab + 1) {
        PyErr_SetString(PyExc_ValueError, "contains_each: post_ptr and dense_row differ");
        goto done;
    }
    const int64_t *ptr = b[0].view.buf;
    const int32_t *post = b[1].view.buf, *dense_row = b[2].view.buf, *docs = b[4].view.buf;
    const unsigned char *dense = b[3].view.buf;
    unsigned char *out = b[5].view.buf;
    for (Py_ssize_t j = 0; j < n; j++)
        if (docs[j] < 0) {
            PyErr_SetString(PyExc_ValueError, "contains_each: a negative passage number");
            goto done;
        }
    for (Py_ssize_t r = 0; r < n_terms; r++) {
        Py_ssize_t t = PyLong_AsSsize_t(PySequence_Fast_GET_ITEM(seq, r));
        if (t == -1 && PyErr_Occurred()) goto done;
        if (t < 0 || t >= n_vocab) {
            PyErr_SetString(PyExc_ValueError, "contains_each: a term outside the index");
            goto done;
        }
        unsigned char *row = out + r * n;
        const int32_t dr = dense_row[t];
        if (dr >= 0) { /* a frequent term: its dense row is nonzero where it occurs */
            if (dr >= n_rows) {
                PyErr_SetString(PyExc_ValueError, "contains_each: a dense row outside");
                goto done;
            }
            const unsigned char *drow = dense + (Py_ssize_t)dr * n_pass;
            for (Py_ssize_t j = 0; j < n; j++) row[j] = docs[j] < n_pass && drow[docs[j]] != 0;
            continue;
        }
        const int64_t s = ptr[t], e = ptr[t + 1];
        if (s < 0 || s > e || e > n_post) {
            PyErr_SetString(PyExc_ValueError, "contains_each: postings outside the index");
            goto done;
        }
        for (Py_ssize_t j = 0; j < n; j++) { /* the first posting >= docs[j] */
            const int32_t d = docs[j];
            int64_t lo = s, hi = e;
            while (lo < hi) {
                const int64_t mid = lo + (hi - lo) / 2;
                if (post[mid] < d)
                    lo = mid + 1;
                else
                    hi = mid;
            }
            row[j] = lo < e && post[lo] == d;
        }
    }
    result = Py_None;
    Py_INCREF(result);
done:
    Py_XDECREF(seq);
    release(b, 6);
    return result;
}

/* A C-contiguous buffer of any shape, of items of ``size`` bytes whose format ends with
 * ``code``; its number of items in *n. */
static int get_any(PyObject *obj, Buf *b, char code, Py_ssize_t size, int writable,
                   const char *name, Py_ssize_t *n) {
    int flags = PyBUF_C_CONTIGUOUS | PyBUF_FORMAT | (writable ? PyBUF_WRITABLE : 0);
    if (PyObject_GetBuffer(obj, &b->view, flags) < 0) return -1;
    b->held = 1;
    const char *f = b->view.format;
    size_t lf = f ? strlen(f) : 0;
    if (b->view.itemsize != size || lf == 0 || f[lf - 1] != code) {
        PyErr_Format(PyExc_TypeError, "%s: expected an array of '%c' items", name, code);
        return -1;
    }
    *n = b->view.len / size;
    return 0;
}

PyDoc_STRVAR(evidence_doc,
"evidence(found, term_ids, word_credits, weights, n_own, lead_credit, rank_lead_credit,\n"
"         carried_over, sel, req) -> (coverage, topical, selected, complete)\n\n"
"The evidence of bot.search for n candidates, as four lists of n. found: bool [terms, 3, n]\n"
"(the passage, its lead, its antecedent holds the term); term_ids: the question's terms;\n"
"word_credits: {(term, word): credit} (a term repeated in term_ids counts at its last\n"
"place); weights: one per word. A passage holds word w at the best over terms of held x\n"
"credit, held being the largest of 1 (in the passage), the lead credit (in its lead; 1 for\n"
"the words in ``sel``) and carried_over (in the passage before). coverage: the weighted\n"
"share of the words held with lead_credit, or of the first n_own words if larger; topical:\n"
"the same with rank_lead_credit, of all words; selected: every word of ``sel`` held (False\n"
"without sel); complete: every word of ``req`` held. Shares are sums in word order divided\n"
"by the sum of the weights (at least 1e-9).");

/* out[d * W + w]: the best over terms of (how passage d holds the term) x (its credit for w) */
static void hold(const unsigned char *found, const double *credit, Py_ssize_t T, Py_ssize_t W,
                 Py_ssize_t n, double via_lead, double carried_over, const unsigned char *lead1,
                 double *out) {
    for (Py_ssize_t d = 0; d < n; d++) {
        for (Py_ssize_t w = 0; w < W; w++) {
            const double via = lead1[w] ? 1.0 : via_lead;
            double best = 0.0;
            for (Py_ssize_t t = 0; t < T; t++) {
                const unsigned char *f = found + t * 3 * n;
                double h = f[d] ? 1.0 : 0.0;
                const double l = f[n + d] ? via : 0.0, a = f[2 * n + d] ? carried_over : 0.0;
                if (l > h) h = l;
                if (a > h) h = a;
                const double x = h * credit[t * W + w];
                if (t == 0 || x > best) best = x;
            }
            out[d * W + w] = best;
        }
    }
}

/* Word numbers of a sequence into flags[W]; -1 (an exception set) if one is outside. */
static int word_flags(PyObject *seq, Py_ssize_t W, unsigned char *flags, Py_ssize_t *count) {
    PyObject *fast = PySequence_Fast(seq, "expected a sequence of word numbers");
    if (fast == NULL) return -1;
    *count = 0;
    for (Py_ssize_t i = 0; i < PySequence_Fast_GET_SIZE(fast); i++) {
        Py_ssize_t w = PyNumber_AsSsize_t(PySequence_Fast_GET_ITEM(fast, i), PyExc_OverflowError);
        if (w == -1 && PyErr_Occurred()) break;
        if (w < 0 || w >= W) {
            PyErr_SetString(PyExc_ValueError, "evidence: a word number outside");
            break;
        }
        *count += !flags[w];
        flags[w] = 1;
    }
    Py_DECREF(fast);
    return PyErr_Occurred() ? -1 : 0;
}

static PyObject *evidence(PyObject *self, PyObject *args) {
    PyObject *o_found, *o_ids, *o_credits, *o_weights, *o_sel, *o_req;
    Py_ssize_t n_own;
    double lead_credit, rank_lead_credit, carried_over;
    if (!PyArg_ParseTuple(args, "OOO!OndddOO", &o_found, &o_ids, &PyDict_Type, &o_credits,
                          &o_weights, &n_own, &lead_credit, &rank_lead_credit, &carried_over,
                          &o_sel, &o_req))
        return NULL;
    Buf b[1];
    memset(b, 0, sizeof b);
    PyObject *ids = NULL, *ws = NULL, *result = NULL;
    PyObject *lists[4] = {NULL, NULL, NULL, NULL};
    double *mem = NULL;
    unsigned char *flags = NULL;
    Py_ssize_t n_found;
    if (get_any(o_found, &b[0], '?', 1, 0, "found", &n_found) < 0) goto done;
    ids = PySequence_Fast(o_ids, "term_ids: expected a sequence");
    ws = ids ? PySequence_Fast(o_weights, "weights: expected a sequence") : NULL;
    if (ws == NULL) goto done;
    const Py_ssize_t T = PySequence_Fast_GET_SIZE(ids), W = PySequence_Fast_GET_SIZE(ws);
    if (T < 1 || n_found % (3 * T)) {
        PyErr_SetString(PyExc_ValueError, "evidence: array sizes differ");
        goto done;
    }
    const Py_ssize_t n = n_found / (3 * T);
    /* term_credit [T, W], weights [W], then the two holdings [n, W] */
    mem = PyMem_Calloc((size_t)(T * W + W + 2 * n * W + 1), sizeof(double));
    flags = PyMem_Calloc((size_t)(3 * W + 1), 1); /* lead credit 1, selecting, required */
    if (mem == NULL || flags == NULL) {
        PyErr_NoMemory();
        goto done;
    }
    double *term_credit = mem, *weights = mem + T * W, *credit = weights + W,
           *topical = credit + n * W;
    for (Py_ssize_t w = 0; w < W; w++) {
        weights[w] = PyFloat_AsDouble(PySequence_Fast_GET_ITEM(ws, w));
        if (weights[w] == -1.0 && PyErr_Occurred()) goto done;
    }
    Py_ssize_t pos = 0;
    PyObject *key, *value;
    while (PyDict_Next(o_credits, &pos, &key, &value)) {
        if (!PyTuple_Check(key) || PyTuple_GET_SIZE(key) != 2) {
            PyErr_SetString(PyExc_TypeError, "word_credits: keys are (term, word)");
            goto done;
        }
        PyObject *tid = PyTuple_GET_ITEM(key, 0);
        Py_ssize_t w = PyNumber_AsSsize_t(PyTuple_GET_ITEM(key, 1), PyExc_OverflowError);
        double cr = PyFloat_AsDouble(value);
        if (PyErr_Occurred()) goto done;
        Py_ssize_t r = T - 1; /* the last place of the term, as {tid: r for r, tid in ...} */
        for (; r >= 0; r--) {
            int eq = PyObject_RichCompareBool(PySequence_Fast_GET_ITEM(ids, r), tid, Py_EQ);
            if (eq < 0) goto done;
            if (eq) break;
        }
        if (r < 0 || w < 0 || w >= W) {
            PyErr_SetString(PyExc_ValueError, "word_credits: a term or word outside");
            goto done;
        }
        term_credit[r * W + w] = cr;
    }
    Py_ssize_t n_sel, n_req;
    if (word_flags(o_sel, W, flags + W, &n_sel) < 0 || word_flags(o_req, W, flags + 2 * W, &n_req) < 0)
        goto done;
    memcpy(flags, flags + W, (size_t)W); /* the words that select an article: lead credit 1 */
    const unsigned char *found = b[0].view.buf;
    hold(found, term_credit, T, W, n, lead_credit, carried_over, flags, credit);
    hold(found, term_credit, T, W, n, rank_lead_credit, carried_over, flags, topical);
    double total = 0.0, own_total = 0.0;
    for (Py_ssize_t w = 0; w < W; w++) {
        total += weights[w];
        if (w < n_own) own_total += weights[w];
    }
    const int own_too = n_own < W;
    const double div = total > 1e-9 ? total : 1e-9, own_div = own_total > 1e-9 ? own_total : 1e-9;
    for (int i = 0; i < 4; i++)
        if ((lists[i] = PyList_New(n)) == NULL) goto done;
    for (Py_ssize_t d = 0; d < n; d++) {
        const double *c = credit + d * W, *tp = topical + d * W;
        double s = 0.0, own = 0.0, top = 0.0;
        int sel_all = n_sel > 0, req_all = 1;
        for (Py_ssize_t w = 0; w < W; w++) {
            s += c[w] * weights[w];
            if (w < n_own) own += c[w] * weights[w];
            top += tp[w] * weights[w];
            if (flags[W + w] && !(c[w] > 0.0)) sel_all = 0;
            if (flags[2 * W + w] && !(c[w] > 0.0)) req_all = 0;
        }
        double share = s / div;
        if (own_too) {
            const double o = own / own_div;
            if (o > share || isnan(o)) share = o;
        }
        PyObject *items[4] = {PyFloat_FromDouble(share), PyFloat_FromDouble(top / div),
                              PyBool_FromLong(sel_all), PyBool_FromLong(req_all)};
        for (int i = 0; i < 4; i++) {
            if (items[i] == NULL) {
                for (int j = i + 1; j < 4; j++) Py_XDECREF(items[j]);
                goto done;
            }
            PyList_SET_ITEM(lists[i], d, items[i]);
        }
    }
    result = PyTuple_Pack(4, lists[0], lists[1], lists[2], lists[3]);
done:
    for (int i = 0; i < 4; i++) Py_XDECREF(lists[i]);
    PyMem_Free(mem);
    PyMem_Free(flags);
    Py_XDECREF(ids);
    Py_XDECREF(ws);
    release(b, 1);
    return result;
}

PyDoc_STRVAR(with_related_doc,
"with_related(file_idx, points_back, file_start, docs, out) -> None\n\n"
"PassageStore.with_related: out (int32 [3 x docs]) = docs, each one's lead (the first\n"
"passage of its file) and its antecedent (the passage before, when it points back to it\n"
"and is of the same file; else itself).");

static PyObject *with_related(PyObject *self, PyObject *args) {
    PyObject *o[5];
    if (!PyArg_UnpackTuple(args, "with_related", 5, 5, &o[0], &o[1], &o[2], &o[3], &o[4]))
        return NULL;
    Buf b[5];
    memset(b, 0, sizeof b);
    PyObject *result = NULL;
    if (get_buf(o[0], &b[0], 'i', 4, 0, "file_idx") < 0 ||
        get_buf(o[1], &b[1], '?', 1, 0, "points_back") < 0 ||
        get_buf(o[2], &b[2], 'l', 8, 0, "file_start") < 0 ||
        get_buf(o[3], &b[3], 'i', 4, 0, "docs") < 0 || get_buf(o[4], &b[4], 'i', 4, 1, "out") < 0)
        goto done;
    const Py_ssize_t n_pass = length(&b[0]), n_files = length(&b[2]), n = length(&b[3]);
    if (length(&b[1]) != n_pass || length(&b[4]) != 3 * n) {
        PyErr_SetString(PyExc_ValueError, "with_related: array sizes differ");
        goto done;
    }
    const int32_t *file_idx = b[0].view.buf, *docs = b[3].view.buf;
    const unsigned char *back = b[1].view.buf;
    const int64_t *file_start = b[2].view.buf;
    int32_t *out = b[4].view.buf;
    for (Py_ssize_t j = 0; j < n; j++) {
        const int32_t d = docs[j];
        if (d < 0 || d >= n_pass || file_idx[d] < 0 || file_idx[d] >= n_files) {
            PyErr_SetString(PyExc_IndexError, "with_related: a passage outside the store");
            goto done;
        }
        const int32_t f = file_idx[d];
        out[j] = d;
        out[n + j] = (int32_t)file_start[f];
        out[2 * n + j] = back[d] && d > 0 && file_idx[d - 1] == f ? d - 1 : d;
    }
    result = Py_None;
    Py_INCREF(result);
done:
    release(b, 5);
    return result;
}

static PyMethodDef methods[] = {
    {"rank", rank, METH_VARARGS, rank_doc},
    {"contains_each", contains_each, METH_VARARGS, contains_each_doc},
    {"with_related", with_related, METH_VARARGS, with_related_doc},
    {"evidence", evidence, METH_VARARGS, evidence_doc},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "bot._native_query",
    "Compiled helpers for answering questions (optional).", -1, methods,
};

PyMODINIT_FUNC PyInit__native_query(void) { return PyModule_Create(&module); }
