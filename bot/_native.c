/* Compiled helpers for indexing: the tokenizer of bot.analysis on ASCII text, a chunk of
 * passages turned into term ids in one pass, and the spelling index's delete keys.
 *
 * Optional: when this module is not built (no C compiler), bot.analysis does the same in
 * Python. The tests check that both give the same words and the same ids.
 *
 * Tokens are those of bot.analysis._TOKEN_RE. On ASCII text (\w = [A-Za-z0-9_]) its two
 * alternatives, tried in order at each position, are:
 *   1. a spaced model designation: (?<!\w) [A-Z]{1,4} ' ' \d+ [A-Za-z]{0,3} (?![\w-])
 *   2. \w+ (?:[joiner] \w+)*  with the joiners ' ` - + . / &
 * Non-ASCII text is left to the regular expression (the caller's ``findall``).
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <string.h>

static inline int is_w(unsigned char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}
static inline int is_upper(unsigned char c) { return c >= 'A' && c <= 'Z'; }
static inline int is_digit(unsigned char c) { return c >= '0' && c <= '9'; }
static inline int is_alpha(unsigned char c) { return (c >= 'a' && c <= 'z') || is_upper(c); }
static inline int is_joiner(unsigned char c) {
    return c == '\'' || c == '`' || c == '-' || c == '+' || c == '.' || c == '/' || c == '&';
}

/* The next token of s[0..n) at or after *pos: 1 with its span [*a, *b), or 0 at the end. */
static int next_token(const unsigned char *s, Py_ssize_t n, Py_ssize_t *pos, Py_ssize_t *a,
                      Py_ssize_t *b) {
    Py_ssize_t i = *pos;
    while (i < n) {
        unsigned char c = s[i];
        if (!is_w(c)) { /* every alternative starts with a word character */
            i++;
            continue;
        }
        if ((i == 0 || !is_w(s[i - 1])) && is_upper(c)) { /* 1: "MH 60R" */
            Py_ssize_t j = i;
            while (j < n && is_upper(s[j])) j++;
            if (j - i <= 4 && j < n && s[j] == ' ') {
                Py_ssize_t k = j + 1, d0 = j + 1;
                while (k < n && is_digit(s[k])) k++;
                if (k > d0) {
                    Py_ssize_t l0 = k;
                    while (k < n && is_alpha(s[k])) k++;
                    if (k - l0 <= 3 && !(k < n && (is_w(s[k]) || s[k] == '-'))) {
                        *a = i;
                        *b = *pos = k;
                        return 1;
                    }
                }
            }
        }
        Py_ssize_t j = i; /* 2: a word, with inner joiners */
        while (j < n && is_w(s[j])) j++;
        while (j + 1 < n && is_joiner(s[j]) && is_w(s[j + 1])) {
            j++;
            while (j < n && is_w(s[j])) j++;
        }
        *a = i;
        *b = *pos = j;
        return 1;
    }
    *pos = n;
    return 0;
}

static PyObject *ascii_str(const unsigned char *s, Py_ssize_t len) {
    PyObject *u = PyUnicode_New(len, 127);
    if (u != NULL) memcpy(PyUnicode_1BYTE_DATA(u), s, (size_t)len);
    return u;
}

PyDoc_STRVAR(words_doc,
             "words(text) -> list of str, or None\n\n"
             "The tokens of an ASCII text (as _TOKEN_RE.findall gives them); None for other text.");

static PyObject *words(PyObject *self, PyObject *text) {
    if (!PyUnicode_Check(text)) {
        PyErr_SetString(PyExc_TypeError, "words() takes a str");
        return NULL;
    }
    if (!PyUnicode_IS_ASCII(text)) Py_RETURN_NONE;
    const unsigned char *s = PyUnicode_1BYTE_DATA(text);
    Py_ssize_t n = PyUnicode_GET_LENGTH(text), pos = 0, a, b;
    PyObject *out = PyList_New(0);
    if (out == NULL) return NULL;
    while (next_token(s, n, &pos, &a, &b)) {
        PyObject *w = ascii_str(s + a, b - a);
        if (w == NULL || PyList_Append(out, w) < 0) {
            Py_XDECREF(w);
            Py_DECREF(out);
            return NULL;
        }
        Py_DECREF(w);
    }
    return out;
}

typedef struct {
    int32_t *v;
    Py_ssize_t n, cap;
} IdBuf;

static int grow(void **buf, Py_ssize_t *cap, Py_ssize_t need, size_t item) {
    if (need <= *cap) return 0;
    Py_ssize_t c = *cap ? *cap : 1024;
    while (c < need) c *= 2;
    void *v = PyMem_Realloc(*buf, (size_t)c * item);
    if (v == NULL) {
        PyErr_NoMemory();
        return -1;
    }
    *buf = v;
    *cap = c;
    return 0;
}

static int push_ids(IdBuf *buf, PyObject *ids) {
    if (!PyTuple_Check(ids)) {
        PyErr_SetString(PyExc_TypeError, "a word's ids must be a tuple of int");
        return -1;
    }
    Py_ssize_t m = PyTuple_GET_SIZE(ids);
    if (grow((void **)&buf->v, &buf->cap, buf->n + m, sizeof(int32_t)) < 0) return -1;
    for (Py_ssize_t k = 0; k < m; k++) {
        long x = PyLong_AsLong(PyTuple_GET_ITEM(ids, k));
        if (x == -1 && PyErr_Occurred()) return -1;
        if (x < INT32_MIN || x > INT32_MAX) {
            PyErr_SetString(PyExc_OverflowError, "term id out of int32 range");
            return -1;
        }
        buf->v[buf->n++] = (int32_t)x;
    }
    return 0;
}

/* CRC-32 (the polynomial and bit order of zlib.crc32) */
static uint32_t crc_table[256];

static void crc_init(void) {
    for (uint32_t i = 0; i < 256; i++) {
        uint32_t c = i;
        for (int k = 0; k < 8; k++) c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
        crc_table[i] = c;
    }
}

static inline uint32_t crc_update(uint32_t crc, const unsigned char *s, Py_ssize_t n) {
    crc = ~crc;
    for (Py_ssize_t i = 0; i < n; i++) crc = crc_table[(crc ^ s[i]) & 0xFF] ^ (crc >> 8);
    return ~crc;
}

static int cmp_u32(const void *x, const void *y) {
    uint32_t a = *(const uint32_t *)x, b = *(const uint32_t *)y;
    return (a > b) - (a < b);
}

PyDoc_STRVAR(delete_keys_doc,
             "delete_keys(words) -> (keys: bytes, counts: bytes) or None\n\n"
             "For each ASCII word, in order, the distinct CRC-32s of the word and of the word\n"
             "with any one letter deleted, ascending (native int64), and how many (int64).\n"
             "None when a word is not ASCII (the caller then does it in Python).");

static PyObject *delete_keys(PyObject *self, PyObject *list) {
    if (!PyList_Check(list)) {
        PyErr_SetString(PyExc_TypeError, "delete_keys() takes a list of str");
        return NULL;
    }
    Py_ssize_t n = PyList_GET_SIZE(list), total = 0, maxlen = 0;
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *w = PyList_GET_ITEM(list, i);
        if (!PyUnicode_Check(w)) {
            PyErr_SetString(PyExc_TypeError, "delete_keys() takes a list of str");
            return NULL;
        }
        if (!PyUnicode_IS_ASCII(w)) Py_RETURN_NONE;
        Py_ssize_t len = PyUnicode_GET_LENGTH(w);
        total += len + 1;
        if (len > maxlen) maxlen = len;
    }
    PyObject *keys = PyBytes_FromStringAndSize(NULL, total * (Py_ssize_t)sizeof(int64_t));
    PyObject *counts = PyBytes_FromStringAndSize(NULL, n * (Py_ssize_t)sizeof(int64_t));
    uint32_t *tmp = PyMem_Malloc((size_t)(maxlen + 1) * sizeof(uint32_t));
    if (keys == NULL || counts == NULL || tmp == NULL) {
        Py_XDECREF(keys);
        Py_XDECREF(counts);
        PyMem_Free(tmp);
        return PyErr_NoMemory();
    }
    int64_t *kv = (int64_t *)PyBytes_AS_STRING(keys), *cv = (int64_t *)PyBytes_AS_STRING(counts);
    Py_ssize_t out = 0;
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *w = PyList_GET_ITEM(list, i);
        const unsigned char *s = PyUnicode_1BYTE_DATA(w);
        Py_ssize_t len = PyUnicode_GET_LENGTH(w), m = 0;
        tmp[m++] = crc_update(0, s, len);
        for (Py_ssize_t d = 0; d < len; d++) /* the word less its letter d */
            tmp[m++] = crc_update(crc_update(0, s, d), s + d + 1, len - d - 1);
        qsort(tmp, (size_t)m, sizeof(uint32_t), cmp_u32);
        Py_ssize_t u = 0;
        for (Py_ssize_t k = 0; k < m; k++)
            if (k == 0 || tmp[k] != tmp[k - 1]) kv[out + u++] = tmp[k];
        out += u;
        cv[i] = u;
    }
    PyMem_Free(tmp);
    if (_PyBytes_Resize(&keys, out * (Py_ssize_t)sizeof(int64_t)) < 0) {
        Py_DECREF(counts);
        return NULL;
    }
    return Py_BuildValue("(NN)", keys, counts);
}

/* --- WordTable: surface word -> its term ids, kept in C for an indexing process ------------ */

typedef struct {
    PyObject_HEAD
    Py_ssize_t max_words, n; /* words kept */
    /* open addressing, one 64-bit slot per place: the hash's high 32 bits, then the word's
     * record number + 1 (0: free); a probe reads the record only when the high bits agree */
    uint64_t *slots;
    Py_ssize_t mask;
    /* records, one after another in int32 units: key length, number of ids, the ids, then
     * the key's bytes (padded to 4): one cache line or two for a lookup */
    int32_t *rec;
    Py_ssize_t rec_len, rec_cap;
} WordTable;

static inline uint64_t hash_bytes(const unsigned char *s, Py_ssize_t n) {
    uint64_t h = 1469598103934665603ull; /* FNV-1a */
    for (Py_ssize_t i = 0; i < n; i++) h = (h ^ s[i]) * 1099511628211ull;
    return h ^ (h >> 29);
}


/* the record of word s[0..n), or NULL */
static const int32_t *wt_find(WordTable *t, const unsigned char *s, Py_ssize_t n, uint64_t h) {
    if (t->slots == NULL) return NULL;
    uint64_t tag = h >> 32;
    for (Py_ssize_t i = (Py_ssize_t)(h & (uint64_t)t->mask);; i = (i + 1) & t->mask) {
        uint64_t slot = t->slots[i];
        if (slot == 0) return NULL;
        if ((slot >> 32) != tag) continue;
        const int32_t *r = t->rec + ((slot & 0xFFFFFFFFu) - 1);
        if (r[0] == n && memcmp(r + 2 + r[1], s, (size_t)n) == 0) return r;
    }
}

static void wt_place(uint64_t *slots, Py_ssize_t mask, uint64_t h, Py_ssize_t rec_off) {
    Py_ssize_t i = (Py_ssize_t)(h & (uint64_t)mask);
    while (slots[i]) i = (i + 1) & mask;
    slots[i] = ((h >> 32) << 32) | (uint64_t)(rec_off + 1);
}

static int wt_rehash(WordTable *t, Py_ssize_t size) {
    uint64_t *slots = PyMem_Calloc((size_t)size, sizeof(uint64_t));
    if (slots == NULL) {
        PyErr_NoMemory();
        return -1;
    }
    for (Py_ssize_t off = 0; off < t->rec_len;) {
        const int32_t *r = t->rec + off;
        wt_place(slots, size - 1, hash_bytes((const unsigned char *)(r + 2 + r[1]), r[0]), off);
        off += 2 + r[1] + (r[0] + 3) / 4;
    }
    PyMem_Free(t->slots);
    t->slots = slots;
    t->mask = size - 1;
    return 0;
}

/* keep word s[0..n) with ids[0..m) */
static int wt_insert(WordTable *t, const unsigned char *s, Py_ssize_t n, uint64_t h,
                     const int32_t *ids, Py_ssize_t m) {
    Py_ssize_t size = 2 + m + (n + 3) / 4;
    if (n > INT32_MAX || t->rec_len + size >= (Py_ssize_t)0xFFFFFFFFu) return 0; /* not kept */
    if (t->slots == NULL || 2 * (t->n + 1) > t->mask + 1) {
        if (wt_rehash(t, t->slots == NULL ? 1024 : 2 * (t->mask + 1)) < 0) return -1;
    }
    if (grow((void **)&t->rec, &t->rec_cap, t->rec_len + size, sizeof(int32_t)) < 0) return -1;
    int32_t *r = t->rec + t->rec_len;
    r[0] = (int32_t)n;
    r[1] = (int32_t)m;
    memcpy(r + 2, ids, (size_t)m * sizeof(int32_t));
    if (n) {
        r[2 + m + (n + 3) / 4 - 1] = 0; /* the padding */
        memcpy(r + 2 + m, s, (size_t)n);
    }
    wt_place(t->slots, t->mask, h, t->rec_len);
    t->rec_len += size;
    t->n++;
    return 0;
}

static int push_raw(IdBuf *buf, const int32_t *ids, Py_ssize_t m) {
    if (grow((void **)&buf->v, &buf->cap, buf->n + m, sizeof(int32_t)) < 0) return -1;
    memcpy(buf->v + buf->n, ids, (size_t)m * sizeof(int32_t));
    buf->n += m;
    return 0;
}

/* one word (its UTF-8 bytes s[0..n), and its str when the caller has one) */
static int wt_word(WordTable *t, IdBuf *buf, const unsigned char *s, Py_ssize_t n, PyObject *word,
                   PyObject *miss) {
    uint64_t h = hash_bytes(s, n);
    const int32_t *rec = wt_find(t, s, n, h);
    if (rec != NULL) return push_raw(buf, rec + 2, rec[1]);
    PyObject *w = word;
    if (w == NULL && (w = ascii_str(s, n)) == NULL) return -1;
    PyObject *ids = PyObject_CallOneArg(miss, w);
    if (word == NULL) Py_DECREF(w);
    if (ids == NULL) return -1;
    Py_ssize_t before = buf->n;
    int r = push_ids(buf, ids);
    Py_DECREF(ids);
    if (r < 0) return -1;
    if (t->n < t->max_words)
        return wt_insert(t, s, n, h, buf->v + before, buf->n - before);
    return 0;
}

/* one text's ids, appended to buf: how many, or -1 on an error */
static int wt_text(WordTable *t, IdBuf *buf, PyObject *text, PyObject *miss, PyObject *findall) {
    Py_ssize_t before = buf->n;
    if (PyUnicode_IS_ASCII(text)) {
        const unsigned char *s = PyUnicode_1BYTE_DATA(text);
        Py_ssize_t n = PyUnicode_GET_LENGTH(text), pos = 0, a, b;
        while (next_token(s, n, &pos, &a, &b))
            if (wt_word(t, buf, s + a, b - a, NULL, miss) < 0) return -1;
    } else {
        PyObject *ws = PyObject_CallOneArg(findall, text);
        if (ws == NULL) return -1;
        if (!PyList_Check(ws)) {
            Py_DECREF(ws);
            PyErr_SetString(PyExc_TypeError, "findall must return a list");
            return -1;
        }
        for (Py_ssize_t i = 0; i < PyList_GET_SIZE(ws); i++) {
            PyObject *w = PyList_GET_ITEM(ws, i);
            Py_ssize_t n;
            const char *u = PyUnicode_Check(w) ? PyUnicode_AsUTF8AndSize(w, &n) : NULL;
            int r;
            if (u != NULL) {
                r = wt_word(t, buf, (const unsigned char *)u, n, w, miss);
            } else { /* not encodable (a lone surrogate): asked every time, never kept */
                PyErr_Clear();
                PyObject *ids = PyObject_CallOneArg(miss, w);
                r = ids == NULL ? -1 : push_ids(buf, ids);
                Py_XDECREF(ids);
            }
            if (r < 0) {
                Py_DECREF(ws);
                return -1;
            }
        }
        Py_DECREF(ws);
    }
    return (int)(buf->n - before);
}

static PyObject *wt_chunk_ids(WordTable *t, PyObject *args) {
    PyObject *texts, *miss, *findall;
    if (!PyArg_ParseTuple(args, "O!OO:chunk_ids", &PyList_Type, &texts, &miss, &findall))
        return NULL;
    Py_ssize_t n_texts = PyList_GET_SIZE(texts);
    IdBuf buf = {NULL, 0, 0};
    PyObject *lens = PyBytes_FromStringAndSize(NULL, n_texts * (Py_ssize_t)sizeof(int32_t));
    if (lens == NULL) return NULL;
    int32_t *lens_v = (int32_t *)PyBytes_AS_STRING(lens);
    for (Py_ssize_t k = 0; k < n_texts; k++) {
        if (PyList_GET_SIZE(texts) != n_texts) { /* the callback changed the list */
            PyErr_SetString(PyExc_RuntimeError, "texts changed during chunk_ids");
            goto fail;
        }
        PyObject *text = PyList_GET_ITEM(texts, k);
        if (!PyUnicode_Check(text)) {
            PyErr_SetString(PyExc_TypeError, "texts must be str");
            goto fail;
        }
        Py_INCREF(text); /* its characters are read across callbacks */
        int r = wt_text(t, &buf, text, miss, findall);
        Py_DECREF(text);
        if (r < 0) goto fail;
        lens_v[k] = (int32_t)r;
    }
    PyObject *ids = PyBytes_FromStringAndSize((const char *)buf.v, buf.n * (Py_ssize_t)sizeof(int32_t));
    PyMem_Free(buf.v);
    if (ids == NULL) {
        Py_DECREF(lens);
        return NULL;
    }
    return Py_BuildValue("(NN)", ids, lens);
fail:
    PyMem_Free(buf.v);
    Py_DECREF(lens);
    return NULL;
}

static int wt_init(WordTable *t, PyObject *args, PyObject *kw) {
    static char *names[] = {"max_words", NULL};
    Py_ssize_t max_words;
    if (!PyArg_ParseTupleAndKeywords(args, kw, "n:WordTable", names, &max_words)) return -1;
    if (max_words < 0) {
        PyErr_SetString(PyExc_ValueError, "max_words must be >= 0");
        return -1;
    }
    t->max_words = max_words;
    return 0;
}

static void wt_dealloc(WordTable *t) {
    PyMem_Free(t->slots);
    PyMem_Free(t->rec);
    Py_TYPE(t)->tp_free((PyObject *)t);
}

static PyObject *wt_full(WordTable *t, void *closure) { return PyBool_FromLong(t->n >= t->max_words); }
static Py_ssize_t wt_len(WordTable *t) { return t->n; }

static PyMethodDef wt_methods[] = {
    {"chunk_ids", (PyCFunction)wt_chunk_ids, METH_VARARGS,
     "chunk_ids(texts, miss, findall) -> (ids: bytes, lens: bytes)\n\n"
     "Every text's words, in order, as term ids: the kept ids of a word met before, else\n"
     "miss(word) (a tuple of int), kept while fewer than max_words words are. ASCII texts\n"
     "are tokenized here, others by findall(text). ids: the texts' ids one after another;\n"
     "lens: each text's number of ids; both native int32."},
    {NULL, NULL, 0, NULL},
};

static PyGetSetDef wt_getset[] = {
    {"full", (getter)wt_full, NULL, "max_words words are kept: a new word will not be", NULL},
    {NULL, NULL, NULL, NULL, NULL},
};

static PySequenceMethods wt_as_sequence = {.sq_length = (lenfunc)wt_len};

static PyTypeObject WordTableType = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "bot._native.WordTable",
    .tp_doc = PyDoc_STR("WordTable(max_words): surface words -> term ids, for one indexing "
                        "process (its words' ids as the miss callback first gave them)"),
    .tp_basicsize = sizeof(WordTable),
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_new = PyType_GenericNew,
    .tp_init = (initproc)wt_init,
    .tp_dealloc = (destructor)wt_dealloc,
    .tp_methods = wt_methods,
    .tp_getset = wt_getset,
    .tp_as_sequence = &wt_as_sequence,
};

PyDoc_STRVAR(first_appearance_doc,
             "first_appearance(ids, n_terms) -> (order: bytes, local: bytes, where: bytes)\n\n"
             "ids: native int32 term ids in [0, n_terms). order: the distinct ids in order of first\n"
             "appearance; local: each id's position in order; where: for every id below n_terms,\n"
             "its position in order, or -1 (all native int32).");

static PyObject *first_appearance(PyObject *self, PyObject *args) {
    Py_buffer buf;
    Py_ssize_t n_terms;
    if (!PyArg_ParseTuple(args, "y*n:first_appearance", &buf, &n_terms)) return NULL;
    PyObject *order = NULL, *local = NULL, *where = NULL;
    if (buf.len % (Py_ssize_t)sizeof(int32_t) != 0 || n_terms < 0) {
        PyErr_SetString(PyExc_ValueError, "ids must be int32 and n_terms >= 0");
        goto done;
    }
    Py_ssize_t n = buf.len / (Py_ssize_t)sizeof(int32_t), n_order = 0;
    const int32_t *ids = (const int32_t *)buf.buf;
    where = PyBytes_FromStringAndSize(NULL, n_terms * (Py_ssize_t)sizeof(int32_t));
    local = PyBytes_FromStringAndSize(NULL, n * (Py_ssize_t)sizeof(int32_t));
    order = PyBytes_FromStringAndSize(NULL, (n < n_terms ? n : n_terms) * (Py_ssize_t)sizeof(int32_t));
    if (where == NULL || local == NULL || order == NULL) goto fail;
    int32_t *wv = (int32_t *)PyBytes_AS_STRING(where), *lv = (int32_t *)PyBytes_AS_STRING(local),
            *ov = (int32_t *)PyBytes_AS_STRING(order);
    memset(wv, 0xFF, (size_t)n_terms * sizeof(int32_t));
    for (Py_ssize_t i = 0; i < n; i++) {
        int32_t g = ids[i];
        if (g < 0 || g >= n_terms) {
            PyErr_SetString(PyExc_ValueError, "term id out of range");
            goto fail;
        }
        if (wv[g] < 0) {
            wv[g] = (int32_t)n_order;
            ov[n_order++] = g;
        }
        lv[i] = wv[g];
    }
    if (_PyBytes_Resize(&order, n_order * (Py_ssize_t)sizeof(int32_t)) < 0) goto fail;
    PyBuffer_Release(&buf);
    return Py_BuildValue("(NNN)", order, local, where);
fail:
    Py_XDECREF(order);
    Py_XDECREF(local);
    Py_XDECREF(where);
done:
    PyBuffer_Release(&buf);
    return NULL;
}

static PyMethodDef methods[] = {
    {"words", words, METH_O, words_doc},
    {"delete_keys", delete_keys, METH_O, delete_keys_doc},
    {"first_appearance", first_appearance, METH_VARARGS, first_appearance_doc},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "bot._native", "Compiled helpers for indexing (optional).", -1, methods,
};

PyMODINIT_FUNC PyInit__native(void) {
    crc_init();
    if (PyType_Ready(&WordTableType) < 0) return NULL;
    PyObject *m = PyModule_Create(&module);
    if (m == NULL) return NULL;
    Py_INCREF(&WordTableType);
    if (PyModule_AddObject(m, "WordTable", (PyObject *)&WordTableType) < 0) {
        Py_DECREF(&WordTableType);
        Py_DECREF(m);
        return NULL;
    }
    return m;
}
