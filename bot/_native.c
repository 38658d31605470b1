/* Compiled helpers for indexing: the tokenizer of bot.analysis on ASCII text, a chunk of
 * passages turned into term ids in one pass, and the spelling index's delete keys.
 *
 * Optional: when this module is not built (no C compiler), bot.analysis does the same in
 * Python. The tests check that both give the same words and the same ids.
 *
 * Tokens are those of bot.analysis._TOKEN_RE. On ASCII text (\w = [A-Za-z0-9_]) its three
 * alternatives, tried in order at each position, are:
 *   1. a spaced model designation: (?<!\w) [A-Z]{1,4} ' ' \d+ [A-Za-z]{0,3} (?![\w-])
 *   2. (?<!\w) [Uu]nited' '[Ss]tates (?!\w)
 *   3. \w+ (?:[joiner] \w+)*  with the joiners ' ` - + . / &
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
        if (i == 0 || !is_w(s[i - 1])) {
            if (is_upper(c)) { /* 1: "MH 60R" */
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
            if ((c == 'U' || c == 'u') && i + 13 <= n && memcmp(s + i + 1, "nited ", 6) == 0 &&
                (s[i + 7] == 'S' || s[i + 7] == 's') && memcmp(s + i + 8, "tates", 5) == 0 &&
                !(i + 13 < n && is_w(s[i + 13]))) { /* 2: "United States" */
                *a = i;
                *b = *pos = i + 13;
                return 1;
            }
        }
        Py_ssize_t j = i; /* 3: a word, with inner joiners */
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

static int push_ids(IdBuf *buf, PyObject *ids) {
    if (!PyTuple_Check(ids)) {
        PyErr_SetString(PyExc_TypeError, "a word's ids must be a tuple of int");
        return -1;
    }
    Py_ssize_t m = PyTuple_GET_SIZE(ids);
    if (buf->n + m > buf->cap) {
        Py_ssize_t cap = buf->cap ? buf->cap : 1024;
        while (cap < buf->n + m) cap *= 2;
        int32_t *v = PyMem_Realloc(buf->v, (size_t)cap * sizeof(int32_t));
        if (v == NULL) {
            PyErr_NoMemory();
            return -1;
        }
        buf->v = v;
        buf->cap = cap;
    }
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

/* ids of one word: table[word], or miss(word) for a word the table does not have */
static int add_word(IdBuf *buf, PyObject *word, PyObject *table, PyObject *miss) {
    PyObject *ids = PyDict_GetItemWithError(table, word); /* borrowed */
    if (ids != NULL) return push_ids(buf, ids);
    if (PyErr_Occurred()) return -1;
    ids = PyObject_CallOneArg(miss, word);
    if (ids == NULL) return -1;
    int r = push_ids(buf, ids);
    Py_DECREF(ids);
    return r;
}

PyDoc_STRVAR(chunk_ids_doc,
             "chunk_ids(texts, table, miss, findall) -> (ids: bytes, lens: bytes)\n\n"
             "Every text's words, in order, as term ids: table[word] (a tuple of int), or\n"
             "miss(word) for a word the table lacks (miss may add it). ASCII texts are\n"
             "tokenized here, others by findall(text). ids: the texts' ids one after another;\n"
             "lens: each text's number of ids; both native int32.");

static PyObject *chunk_ids(PyObject *self, PyObject *args) {
    PyObject *texts, *table, *miss, *findall;
    if (!PyArg_ParseTuple(args, "O!O!OO:chunk_ids", &PyList_Type, &texts, &PyDict_Type, &table,
                          &miss, &findall))
        return NULL;
    Py_ssize_t n_texts = PyList_GET_SIZE(texts);
    IdBuf buf = {NULL, 0, 0};
    PyObject *lens = PyBytes_FromStringAndSize(NULL, n_texts * (Py_ssize_t)sizeof(int32_t));
    if (lens == NULL) return NULL;
    int32_t *lens_v = (int32_t *)PyBytes_AS_STRING(lens);
    for (Py_ssize_t t = 0; t < n_texts; t++) {
        PyObject *text = PyList_GET_ITEM(texts, t);
        if (!PyUnicode_Check(text)) {
            PyErr_SetString(PyExc_TypeError, "texts must be str");
            goto fail;
        }
        Py_ssize_t before = buf.n;
        if (PyUnicode_IS_ASCII(text)) {
            const unsigned char *s = PyUnicode_1BYTE_DATA(text);
            Py_ssize_t n = PyUnicode_GET_LENGTH(text), pos = 0, a, b;
            while (next_token(s, n, &pos, &a, &b)) {
                PyObject *w = ascii_str(s + a, b - a);
                if (w == NULL) goto fail;
                int r = add_word(&buf, w, table, miss);
                Py_DECREF(w);
                if (r < 0) goto fail;
            }
        } else {
            PyObject *ws = PyObject_CallOneArg(findall, text);
            if (ws == NULL) goto fail;
            if (!PyList_Check(ws)) {
                Py_DECREF(ws);
                PyErr_SetString(PyExc_TypeError, "findall must return a list");
                goto fail;
            }
            for (Py_ssize_t k = 0; k < PyList_GET_SIZE(ws); k++) {
                if (add_word(&buf, PyList_GET_ITEM(ws, k), table, miss) < 0) {
                    Py_DECREF(ws);
                    goto fail;
                }
            }
            Py_DECREF(ws);
        }
        lens_v[t] = (int32_t)(buf.n - before);
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

static PyMethodDef methods[] = {
    {"words", words, METH_O, words_doc},
    {"chunk_ids", chunk_ids, METH_VARARGS, chunk_ids_doc},
    {"delete_keys", delete_keys, METH_O, delete_keys_doc},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "bot._native", "Compiled helpers for indexing (optional).", -1, methods,
};

PyMODINIT_FUNC PyInit__native(void) {
    crc_init();
    return PyModule_Create(&module);
}
