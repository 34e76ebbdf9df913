/* Bulk reads of a selectolax (Lexbor) tree by node id, for the list parsers' hot path.
 *
 * selectolax gives each node found a Python object, and each text or attribute read a
 * method call; on a Lianjia list page (~450 nodes) those objects and calls cost more
 * than Lexbor's work behind them. These functions run the same Lexbor calls over whole
 * lists of nodes, named by selectolax's own ``LexborNode.mem_id`` (the node's address),
 * and return plain ints and strings.
 *
 * Nothing is linked at build time: the Lexbor functions are looked up in selectolax's
 * extension, which exports them, when this module is imported. Any one missing makes the
 * import fail, and the parsers read through selectolax as before (scrapers/domread.py).
 *
 * Node ids are addresses: they are valid only while the tree they came from is alive,
 * which the caller (scrapers/domread.py) guarantees by holding the tree.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <dlfcn.h>
#include <stdint.h>
#include <string.h>

typedef unsigned char lxb_char_t;
typedef unsigned int lxb_status_t;
typedef void lxb_node; /* lxb_dom_node_t, used only through Lexbor's functions */
typedef lxb_status_t (*lxb_selectors_cb_f)(lxb_node *node, void *spec, void *ctx);

#define LXB_STATUS_OK 0
#define LXB_DOM_NODE_TYPE_ELEMENT 1
#define LXB_DOM_NODE_TYPE_DOCUMENT 9
#define LXB_SELECTORS_OPT_MATCH_ROOT (1 << 1)

static struct {
    void *(*css_parser_create)(void);
    lxb_status_t (*css_parser_init)(void *parser, void *tokenizer);
    void *(*css_selectors_create)(void);
    lxb_status_t (*css_selectors_init)(void *selectors);
    void (*css_parser_selectors_set_noi)(void *parser, void *selectors);
    void *(*selectors_create)(void);
    lxb_status_t (*selectors_init)(void *selectors);
    void (*selectors_opt_set_noi)(void *selectors, int opt);
    void *(*css_selectors_parse)(void *parser, const lxb_char_t *data, size_t length);
    lxb_status_t (*selectors_find)(void *selectors, lxb_node *root, void *list,
                                   lxb_selectors_cb_f cb, void *ctx);
    lxb_char_t *(*node_text_content)(lxb_node *node, size_t *len);
    void (*document_destroy_text_noi)(lxb_node *document, lxb_char_t *text);
    const lxb_char_t *(*element_get_attribute)(lxb_node *element, const lxb_char_t *name,
                                               size_t name_len, size_t *value_len);
    lxb_node *(*node_parent_noi)(lxb_node *node);
    uintptr_t (*node_tag_id_noi)(lxb_node *node);
    int (*node_type_noi)(lxb_node *node);
    void (*node_remove)(lxb_node *node);
    lxb_node *(*node_first_child_noi)(lxb_node *node);
    lxb_node *(*node_next_noi)(lxb_node *node);
    const lxb_char_t *(*element_local_name)(lxb_node *element, size_t *len);
    const lxb_char_t *(*element_class_noi)(lxb_node *element, size_t *len);
} lxb;

static const char *const lxb_names[] = {
    "lxb_css_parser_create",
    "lxb_css_parser_init",
    "lxb_css_selectors_create",
    "lxb_css_selectors_init",
    "lxb_css_parser_selectors_set_noi",
    "lxb_selectors_create",
    "lxb_selectors_init",
    "lxb_selectors_opt_set_noi",
    "lxb_css_selectors_parse",
    "lxb_selectors_find",
    "lxb_dom_node_text_content",
    "lxb_dom_document_destroy_text_noi",
    "lxb_dom_element_get_attribute",
    "lxb_dom_node_parent_noi",
    "lxb_dom_node_tag_id_noi",
    "lxb_dom_node_type_noi",
    "lxb_dom_node_remove",
    "lxb_dom_node_first_child_noi",
    "lxb_dom_node_next_noi",
    "lxb_dom_element_local_name",
    "lxb_dom_element_class_noi",
};

/* One CSS parser and one selectors engine for the module, as selectolax keeps one per
 * query object; compiled selector lists are kept by their text (a parser has a handful). */
static void *css_parser;
static void *selectors;
static PyObject *compiled; /* dict: selector text -> int address of its Lexbor list */

static int
load_lexbor(void)
{
    PyObject *mod = PyImport_ImportModule("selectolax.lexbor");
    if (mod == NULL)
        return -1;
    PyObject *file = PyObject_GetAttrString(mod, "__file__");
    Py_DECREF(mod);
    if (file == NULL)
        return -1;
    const char *path = PyUnicode_AsUTF8(file);
    if (path == NULL) {
        Py_DECREF(file);
        return -1;
    }
    /* Already loaded by the import above: this only gets a handle to it. */
    void *handle = dlopen(path, RTLD_NOW | RTLD_NOLOAD);
    if (handle == NULL) {
        PyErr_Format(PyExc_ImportError, "cannot open %s: %s", path, dlerror());
        Py_DECREF(file);
        return -1;
    }
    void **slots = (void **)&lxb;
    size_t n = sizeof(lxb_names) / sizeof(lxb_names[0]);
    for (size_t i = 0; i < n; i++) {
        slots[i] = dlsym(handle, lxb_names[i]);
        if (slots[i] == NULL) {
            PyErr_Format(PyExc_ImportError, "%s does not export %s", path, lxb_names[i]);
            Py_DECREF(file);
            return -1;
        }
    }
    Py_DECREF(file);

    css_parser = lxb.css_parser_create();
    void *css_selectors = lxb.css_selectors_create();
    selectors = lxb.selectors_create();
    if (css_parser == NULL || css_selectors == NULL || selectors == NULL
        || lxb.css_parser_init(css_parser, NULL) != LXB_STATUS_OK
        || lxb.css_selectors_init(css_selectors) != LXB_STATUS_OK
        || lxb.selectors_init(selectors) != LXB_STATUS_OK) {
        PyErr_SetString(PyExc_ImportError, "cannot set up Lexbor's CSS selectors");
        return -1;
    }
    lxb.css_parser_selectors_set_noi(css_parser, css_selectors);
    /* As selectolax's node.css(): the node queried from may match itself. */
    lxb.selectors_opt_set_noi(selectors, LXB_SELECTORS_OPT_MATCH_ROOT);
    compiled = PyDict_New();
    return compiled == NULL ? -1 : 0;
}

static lxb_node *
as_node(PyObject *id)
{
    void *node = PyLong_AsVoidPtr(id);
    if (node == NULL && !PyErr_Occurred())
        PyErr_SetString(PyExc_ValueError, "node id 0 is no node");
    return node;
}

/* An id that may be 0 (no node, as the parsers write a field not found): -1 on error. */
static int
as_node_or_none(PyObject *id, lxb_node **node)
{
    *node = PyLong_AsVoidPtr(id);
    return *node == NULL && PyErr_Occurred() ? -1 : 0;
}

/* Each function takes a list of ids (a list, as the parsers build them). */
static PyObject *
id_list(PyObject *ids)
{
    if (!PyList_Check(ids)) {
        PyErr_SetString(PyExc_TypeError, "expected a list of node ids");
        return NULL;
    }
    return ids;
}

/* What one of the per-id readers gives for a node (NULL for id 0): a new reference, or
 * NULL with an exception set. */
typedef PyObject *(*node_reader)(lxb_node *node, void *ctx);

/* [read(node, ctx) for each id], the loop the per-id functions share. */
static PyObject *
read_each(PyObject *ids, node_reader read, void *ctx)
{
    if (id_list(ids) == NULL)
        return NULL;
    Py_ssize_t n = PyList_GET_SIZE(ids);
    PyObject *out = PyList_New(n);
    for (Py_ssize_t i = 0; out != NULL && i < n; i++) {
        lxb_node *node;
        PyObject *value = NULL;
        if (as_node_or_none(PyList_GET_ITEM(ids, i), &node) == 0)
            value = read(node, ctx);
        if (value == NULL) {
            Py_CLEAR(out);
            break;
        }
        PyList_SET_ITEM(out, i, value);
    }
    return out;
}

static lxb_status_t
collect(lxb_node *node, void *spec, void *ctx)
{
    (void)spec;
    PyObject *id = PyLong_FromVoidPtr(node);
    if (id == NULL || PyList_Append((PyObject *)ctx, id) < 0) {
        Py_XDECREF(id);
        return 1; /* any status but OK stops the walk */
    }
    Py_DECREF(id);
    return LXB_STATUS_OK;
}

PyDoc_STRVAR(select_doc, "select(root, selector) -> list of ids\n\n"
                         "The nodes at or under root that the CSS selector list matches, in "
                         "document order, as root.css(selector) finds them.");

static PyObject *
dom_select(PyObject *self, PyObject *args)
{
    PyObject *root_id, *selector;
    if (!PyArg_ParseTuple(args, "OU", &root_id, &selector))
        return NULL;
    lxb_node *root = as_node(root_id);
    if (root == NULL)
        return NULL;
    PyObject *address = PyDict_GetItemWithError(compiled, selector);
    void *list;
    if (address != NULL) {
        list = PyLong_AsVoidPtr(address);
    } else {
        if (PyErr_Occurred())
            return NULL;
        Py_ssize_t len;
        const char *text = PyUnicode_AsUTF8AndSize(selector, &len);
        if (text == NULL)
            return NULL;
        list = lxb.css_selectors_parse(css_parser, (const lxb_char_t *)text, (size_t)len);
        if (list == NULL)
            return PyErr_Format(PyExc_ValueError, "Lexbor cannot parse the selector %R",
                                selector);
        PyObject *kept = PyLong_FromVoidPtr(list);
        if (kept == NULL || PyDict_SetItem(compiled, selector, kept) < 0) {
            Py_XDECREF(kept);
            return NULL;
        }
        Py_DECREF(kept);
    }
    PyObject *found = PyList_New(0);
    if (found == NULL)
        return NULL;
    lxb_status_t status = lxb.selectors_find(selectors, root, list, collect, found);
    if (status != LXB_STATUS_OK) {
        Py_DECREF(found);
        if (!PyErr_Occurred())
            PyErr_Format(PyExc_RuntimeError, "Lexbor's selector search failed (%u)", status);
        return NULL;
    }
    return found;
}

PyDoc_STRVAR(tag_ids_doc, "tag_ids(ids) -> list of Lexbor tag ids (LexborNode.tag_id), 0 for id 0");

static PyObject *
read_tag_id(lxb_node *node, void *ctx)
{
    (void)ctx;
    return PyLong_FromSize_t(node ? lxb.node_tag_id_noi(node) : 0);
}

static PyObject *
dom_tag_ids(PyObject *self, PyObject *ids)
{
    return read_each(ids, read_tag_id, NULL);
}

PyDoc_STRVAR(parent_ids_doc, "parent_ids(ids) -> list of the parents' ids (0 for none or id 0)");

static PyObject *
read_parent_id(lxb_node *node, void *ctx)
{
    (void)ctx;
    return PyLong_FromVoidPtr(node ? lxb.node_parent_noi(node) : NULL);
}

static PyObject *
dom_parent_ids(PyObject *self, PyObject *ids)
{
    return read_each(ids, read_parent_id, NULL);
}

/* The document a node belongs to, whose text arena lends the buffers text_content fills. */
static lxb_node *
document_of(lxb_node *node)
{
    lxb_node *up;
    while ((up = lxb.node_parent_noi(node)) != NULL)
        node = up;
    return lxb.node_type_noi(node) == LXB_DOM_NODE_TYPE_DOCUMENT ? node : NULL;
}

/* Whether a text may hold whitespace beyond ASCII's (str.split() splits on it: NBSP,
 * U+1680, U+2000..U+205F, U+3000) or the zero-width space or BOM that clean_text also
 * drops. Conservative: any U+2000..U+207F (curly quotes, dashes) counts too. */
static int
has_wide_space(const lxb_char_t *s, size_t n)
{
    for (size_t i = 0; i + 1 < n; i++) {
        lxb_char_t c = s[i];
        if (c < 0xC2)
            continue;
        lxb_char_t d = s[i + 1];
        lxb_char_t e = i + 2 < n ? s[i + 2] : 0;
        if ((c == 0xC2 && (d == 0x85 || d == 0xA0)) || (c == 0xE1 && d == 0x9A && e == 0x80)
            || (c == 0xE2 && (d == 0x80 || d == 0x81)) || (c == 0xE3 && d == 0x80 && e == 0x80)
            || (c == 0xEF && d == 0xBB && e == 0xBF))
            return 1;
    }
    return 0;
}

/* The ASCII characters str.isspace() accepts. */
static inline int
is_ascii_space(lxb_char_t c)
{
    return c == ' ' || (c >= 0x09 && c <= 0x0D) || (c >= 0x1C && c <= 0x1F);
}

/* " ".join(text.split()) for a text whose only whitespace is ASCII. Whitespace bytes are
 * never part of a multi-byte sequence, so collapsing them before decoding changes no
 * character, nor which bytes decode to U+FFFD. */
static PyObject *
collapsed(const lxb_char_t *s, size_t n)
{
    char small[512];
    char *buf = n <= sizeof(small) ? small : PyMem_Malloc(n);
    if (buf == NULL)
        return PyErr_NoMemory();
    size_t out = 0;
    int pending = 0;
    for (size_t i = 0; i < n; i++) {
        lxb_char_t c = s[i];
        if (is_ascii_space(c)) {
            pending = out > 0;
            continue;
        }
        if (pending) {
            buf[out++] = ' ';
            pending = 0;
        }
        buf[out++] = (char)c;
    }
    PyObject *str = out ? PyUnicode_DecodeUTF8(buf, (Py_ssize_t)out, "replace")
                        : PyUnicode_FromStringAndSize("", 0);
    if (buf != small)
        PyMem_Free(buf);
    return str;
}

PyDoc_STRVAR(texts_doc, "texts(ids, clean=None) -> list of str\n\n"
                        "Each node's text content, as LexborNode.text_lexbor() reads it (None "
                        "for id 0); with "
                        "clean (scrapers.htmltext.clean_text), each text as clean(text): runs "
                        "of ASCII whitespace are collapsed here, any other text goes to clean.");

static PyObject *
read_text(lxb_node *node, void *ctx)
{
    PyObject *clean = ctx;
    if (node == NULL)
        return Py_NewRef(Py_None);
    size_t len = 0;
    lxb_char_t *text = lxb.node_text_content(node, &len);
    if (text == NULL)
        len = 0;
    PyObject *str;
    if (clean != Py_None && !has_wide_space(text, len)) {
        str = collapsed(text, len);
    } else {
        /* selectolax's policy: bytes Lexbor passed through undecoded become U+FFFD. */
        str = PyUnicode_DecodeUTF8((const char *)text, (Py_ssize_t)len, "replace");
        if (str != NULL && clean != Py_None)
            Py_SETREF(str, PyObject_CallOneArg(clean, str));
    }
    if (text != NULL) {
        /* Give the buffer back, as text_lexbor() does; a node cut from its document
         * (removed) leaves it to the arena, which goes with the document. */
        lxb_node *document = document_of(node);
        if (document != NULL)
            lxb.document_destroy_text_noi(document, text);
    }
    return str;
}

static PyObject *
dom_texts(PyObject *self, PyObject *args)
{
    PyObject *ids, *clean = Py_None;
    if (!PyArg_ParseTuple(args, "O|O", &ids, &clean))
        return NULL;
    return read_each(ids, read_text, clean);
}

PyDoc_STRVAR(attributes_doc, "attributes(ids, name) -> list of str or None\n\n"
                             "Each element's attribute value (None when absent, not an "
                             "element or id 0), as LexborNode.attrs.get(name).");

typedef struct {
    const char *name;
    Py_ssize_t len;
} attribute_name;

static PyObject *
read_attribute(lxb_node *node, void *ctx)
{
    const attribute_name *name = ctx;
    size_t len = 0;
    const lxb_char_t *value = NULL;
    if (node != NULL && lxb.node_type_noi(node) == LXB_DOM_NODE_TYPE_ELEMENT)
        value = lxb.element_get_attribute(node, (const lxb_char_t *)name->name,
                                          (size_t)name->len, &len);
    if (value == NULL)
        return Py_NewRef(Py_None);
    return PyUnicode_DecodeUTF8((const char *)value, (Py_ssize_t)len, "replace");
}

static PyObject *
dom_attributes(PyObject *self, PyObject *args)
{
    PyObject *ids, *name;
    attribute_name wanted;
    if (!PyArg_ParseTuple(args, "OU", &ids, &name)
        || (wanted.name = PyUnicode_AsUTF8AndSize(name, &wanted.len)) == NULL)
        return NULL;
    return read_each(ids, read_attribute, &wanted);
}

PyDoc_STRVAR(remove_doc, "remove(ids) -> None\n\n"
                         "Cut each node (with what it holds) out of its tree, as "
                         "LexborNode.decompose() does; the memory goes with the document.");

static PyObject *
dom_remove(PyObject *self, PyObject *ids)
{
    if (id_list(ids) == NULL)
        return NULL;
    Py_ssize_t n = PyList_GET_SIZE(ids);
    for (Py_ssize_t i = 0; i < n; i++) {
        lxb_node *node = as_node(PyList_GET_ITEM(ids, i));
        if (node == NULL)
            return NULL;
        lxb.node_remove(node);
    }
    Py_RETURN_NONE;
}

/* -- extract: the first (or every) node per item for simple selectors ------------------
 *
 * Selectors of type and class compounds joined by descendant or child combinators
 * ("p.content__list--item--des a", "div.a > span.b"), compiled by scrapers/domread.py
 * into chains: one (tag or None, class or None, joined to the compound before it by
 * '>') per compound, left to right. A node matches as Lexbor matches it: the rightmost
 * compound on the node, the others on its ancestors, up to the document.
 */
typedef struct {
    const char *tag; /* lowercase, NULL for any */
    Py_ssize_t tag_len;
    size_t tag_id; /* Lexbor's id for a standard tag (the same in every document), or 0 */
    const char *cls; /* NULL for none */
    Py_ssize_t cls_len;
    int child; /* joined to the compound before it by '>' */
} compound_t;

typedef struct {
    compound_t *compounds;
    Py_ssize_t n;
    int all;
    int found; /* the first match of the current item is in (all=False) */
    int outside; /* outside_can_match for the current item's parent */
    Py_ssize_t scope; /* search under this field's node (-1: under the item) */
    int scoping;      /* some field searches under this one's node */
} chain_t;

/* Set when a class matched only when case is ignored: Lexbor ignores case in quirks
 * mode and heeds it otherwise, so extract cannot tell the answer and declines. */
static int case_doubt;

static int
ascii_ieq(const lxb_char_t *a, const char *b, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        lxb_char_t x = a[i], y = (lxb_char_t)b[i];
        if (x >= 'A' && x <= 'Z')
            x += 32;
        if (y >= 'A' && y <= 'Z')
            y += 32;
        if (x != y)
            return 0;
    }
    return 1;
}

static int
has_class(lxb_node *el, const char *cls, size_t cls_len)
{
    size_t len = 0;
    const lxb_char_t *value = lxb.element_class_noi(el, &len);
    if (value == NULL)
        return 0;
    size_t i = 0;
    while (i < len) {
        while (i < len && (value[i] == ' ' || value[i] == '\t' || value[i] == '\n'
                           || value[i] == '\f' || value[i] == '\r'))
            i++;
        size_t start = i;
        while (i < len && !(value[i] == ' ' || value[i] == '\t' || value[i] == '\n'
                            || value[i] == '\f' || value[i] == '\r'))
            i++;
        if (i - start == cls_len && ascii_ieq(value + start, cls, cls_len)) {
            if (memcmp(value + start, cls, cls_len) == 0)
                return 1;
            case_doubt = 1;
        }
    }
    return 0;
}

/* An element, its tag id and (read when a chain needs it) its local name, for all
 * the chains tried on it. */
typedef struct {
    lxb_node *node;
    size_t tag_id;
    const lxb_char_t *name;
    size_t name_len;
    int name_read;
} element_t;

static void
element_at(element_t *el, lxb_node *node)
{
    el->node = node;
    el->tag_id = lxb.node_tag_id_noi(node);
    el->name_read = 0;
}

static int
element_matches(element_t *el, const compound_t *c)
{
    if (c->tag_id != 0) {
        if (el->tag_id != c->tag_id)
            return 0;
    } else if (c->tag != NULL) {
        if (!el->name_read) {
            el->name_len = 0;
            el->name = lxb.element_local_name(el->node, &el->name_len);
            el->name_read = 1;
        }
        if (el->name == NULL || el->name_len != (size_t)c->tag_len
            || !ascii_ieq(el->name, c->tag, el->name_len))
            return 0;
    }
    return c->cls == NULL || has_class(el->node, c->cls, (size_t)c->cls_len);
}

static int
compound_matches(lxb_node *node, const compound_t *c)
{
    if (lxb.node_type_noi(node) != LXB_DOM_NODE_TYPE_ELEMENT)
        return 0;
    element_t el;
    element_at(&el, node);
    return element_matches(&el, c);
}

static int chain_matches(lxb_node *node, const chain_t *chain, Py_ssize_t i, lxb_node *limit);

/* Whether the compounds before the i-th match the ancestors of node as the i-th's
 * combinator asks. A descendant combinator's search stops at limit (after trying it)
 * when no node above limit can match (see outside_can_match); NULL searches to the
 * document. */
static int
ancestors_match(lxb_node *node, const chain_t *chain, Py_ssize_t i, lxb_node *limit)
{
    if (i == 0)
        return 1;
    lxb_node *up = lxb.node_parent_noi(node);
    if (chain->compounds[i].child)
        return up != NULL && chain_matches(up, chain, i - 1, limit);
    for (; up != NULL; up = lxb.node_parent_noi(up)) {
        if (chain_matches(up, chain, i - 1, limit))
            return 1;
        if (up == limit)
            break;
    }
    return 0;
}

static int
chain_matches(lxb_node *node, const chain_t *chain, Py_ssize_t i, lxb_node *limit)
{
    return compound_matches(node, &chain->compounds[i])
           && ancestors_match(node, chain, i, limit);
}

/* Whether any node above item matches any compound of the chain but its last: only
 * then can a match inside the item depend on what lies outside it. */
static int
outside_can_match(lxb_node *item, const chain_t *chain)
{
    for (lxb_node *up = lxb.node_parent_noi(item); up != NULL; up = lxb.node_parent_noi(up))
        for (Py_ssize_t j = 0; j + 1 < chain->n; j++)
            if (compound_matches(up, &chain->compounds[j]))
                return 1;
    return 0;
}

static int
parse_chain(PyObject *spec, chain_t *chain)
{
    /* spec: (compounds, all, scope), compounds a tuple of (tag | None, class | None,
     * child, tag id or 0) */
    PyObject *compounds;
    int all;
    chain->scope = -1;
    if (!PyArg_ParseTuple(spec, "O!p|n", &PyTuple_Type, &compounds, &all, &chain->scope))
        return -1;
    chain->n = PyTuple_GET_SIZE(compounds);
    chain->all = all;
    if (chain->n == 0) {
        PyErr_SetString(PyExc_ValueError, "an empty selector chain");
        return -1;
    }
    chain->compounds = PyMem_Calloc((size_t)chain->n, sizeof(compound_t));
    if (chain->compounds == NULL) {
        PyErr_NoMemory();
        return -1;
    }
    for (Py_ssize_t i = 0; i < chain->n; i++) {
        PyObject *tag, *cls;
        compound_t *c = &chain->compounds[i];
        Py_ssize_t tag_id = 0;
        if (!PyArg_ParseTuple(PyTuple_GET_ITEM(compounds, i), "OOp|n", &tag, &cls, &c->child,
                              &tag_id))
            return -1;
        c->tag_id = tag_id > 0 ? (size_t)tag_id : 0;
        if (tag != Py_None && (c->tag = PyUnicode_AsUTF8AndSize(tag, &c->tag_len)) == NULL)
            return -1;
        if (cls != Py_None && (c->cls = PyUnicode_AsUTF8AndSize(cls, &c->cls_len)) == NULL)
            return -1;
    }
    return 0;
}

/* The next node in document order within root, or NULL. */
static lxb_node *
next_in(lxb_node *node, lxb_node *root)
{
    lxb_node *child = lxb.node_first_child_noi(node);
    if (child != NULL)
        return child;
    while (node != root) {
        lxb_node *next = lxb.node_next_noi(node);
        if (next != NULL)
            return next;
        node = lxb.node_parent_noi(node);
    }
    return NULL;
}

/* Search root and what it holds, in document order, for the chains scoped to `scope`
 * (-1: the item), into the item's row. */
static int
search_under(lxb_node *root, lxb_node *item, Py_ssize_t scope, chain_t *chains,
             Py_ssize_t n_chains, PyObject *row)
{
    element_t el;
    for (lxb_node *node = root; node != NULL; node = next_in(node, root)) {
        if (lxb.node_type_noi(node) != LXB_DOM_NODE_TYPE_ELEMENT)
            continue;
        element_at(&el, node);
        for (Py_ssize_t f = 0; f < n_chains; f++) {
            chain_t *chain = &chains[f];
            if (chain->scope != scope || chain->found)
                continue;
            lxb_node *limit = scope < 0 && !chain->outside ? item : NULL;
            if (!element_matches(&el, &chain->compounds[chain->n - 1])
                || !ancestors_match(node, chain, chain->n - 1, limit))
                continue;
            PyObject *id = PyLong_FromVoidPtr(node);
            if (id == NULL)
                return -1;
            if (chain->all) {
                int failed = PyList_Append(PyList_GET_ITEM(row, f), id);
                Py_DECREF(id);
                if (failed)
                    return -1;
            } else {
                PyList_SetItem(row, f, id); /* steals id, drops the 0 */
                chain->found = 1;
            }
        }
    }
    return 0;
}

static PyObject *
extract_item(lxb_node *item, chain_t *chains, Py_ssize_t n_chains)
{
    PyObject *row = PyList_New(n_chains);
    if (row == NULL)
        return NULL;
    for (Py_ssize_t f = 0; f < n_chains; f++) {
        chains[f].found = 0;
        PyObject *empty = chains[f].all ? PyList_New(0) : PyLong_FromLong(0);
        if (empty == NULL) {
            Py_DECREF(row);
            return NULL;
        }
        PyList_SET_ITEM(row, f, empty);
    }
    /* As Lexbor's search from a node, the item (or scope node) itself is a candidate. */
    if (search_under(item, item, -1, chains, n_chains, row) < 0) {
        Py_DECREF(row);
        return NULL;
    }
    for (Py_ssize_t s = 0; s < n_chains; s++) {
        if (!chains[s].scoping)
            continue;
        lxb_node *scope_node = PyLong_AsVoidPtr(PyList_GET_ITEM(row, s));
        if (scope_node != NULL
            && search_under(scope_node, item, s, chains, n_chains, row) < 0) {
            Py_DECREF(row);
            return NULL;
        }
    }
    return row;
}

PyDoc_STRVAR(extract_doc, "extract(items, chains) -> list of rows, or None\n\n"
                          "For each item id, a row with one entry per chain: the first node "
                          "at or under the item that the chain matches (0 for none), or with "
                          "all=True the list of them, as item.css_first()/item.css() find "
                          "them. None when a class matched only if case is ignored.");

static PyObject *
dom_extract(PyObject *self, PyObject *args)
{
    PyObject *items, *specs;
    if (!PyArg_ParseTuple(args, "OO!", &items, &PyList_Type, &specs) || id_list(items) == NULL)
        return NULL;
    Py_ssize_t n_chains = PyList_GET_SIZE(specs);
    chain_t *chains = PyMem_Calloc((size_t)(n_chains ? n_chains : 1), sizeof(chain_t));
    if (chains == NULL)
        return PyErr_NoMemory();
    PyObject *rows = NULL;
    for (Py_ssize_t f = 0; f < n_chains; f++) {
        if (parse_chain(PyList_GET_ITEM(specs, f), &chains[f]) < 0)
            goto done;
        Py_ssize_t scope = chains[f].scope;
        if (scope >= 0) {
            /* A scope is an earlier field searched under the item, first match only. */
            if (scope >= f || chains[scope].all || chains[scope].scope >= 0) {
                PyErr_Format(PyExc_ValueError,
                             "field %zd: scope %zd is not an earlier first-match field "
                             "of the item", f, scope);
                goto done;
            }
            chains[scope].scoping = 1;
        } else if (scope != -1) {
            PyErr_Format(PyExc_ValueError, "field %zd: scope %zd", f, scope);
            goto done;
        }
    }
    Py_ssize_t n = PyList_GET_SIZE(items);
    rows = PyList_New(n);
    case_doubt = 0;
    lxb_node *last_parent = NULL;
    for (Py_ssize_t i = 0; rows != NULL && i < n; i++) {
        lxb_node *item = as_node(PyList_GET_ITEM(items, i));
        lxb_node *parent = item ? lxb.node_parent_noi(item) : NULL;
        /* Items are mostly siblings: what lies above them is looked at once. */
        if (item != NULL && (i == 0 || parent != last_parent)) {
            for (Py_ssize_t f = 0; f < n_chains; f++)
                chains[f].outside = outside_can_match(item, &chains[f]);
            last_parent = parent;
        }
        PyObject *row = item ? extract_item(item, chains, n_chains) : NULL;
        if (row == NULL) {
            Py_CLEAR(rows);
            break;
        }
        PyList_SET_ITEM(rows, i, row);
    }
    if (rows != NULL && case_doubt)
        Py_SETREF(rows, Py_NewRef(Py_None));
done:
    for (Py_ssize_t f = 0; f < n_chains; f++)
        PyMem_Free(chains[f].compounds);
    PyMem_Free(chains);
    return rows;
}

static PyMethodDef dom_methods[] = {
    {"select", dom_select, METH_VARARGS, select_doc},
    {"tag_ids", dom_tag_ids, METH_O, tag_ids_doc},
    {"parent_ids", dom_parent_ids, METH_O, parent_ids_doc},
    {"texts", dom_texts, METH_VARARGS, texts_doc},
    {"attributes", dom_attributes, METH_VARARGS, attributes_doc},
    {"remove", dom_remove, METH_O, remove_doc},
    {"extract", dom_extract, METH_VARARGS, extract_doc},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef dom_module = {
    PyModuleDef_HEAD_INIT,
    "scrapers._lexbor_read",
    "Bulk reads of a selectolax (Lexbor) tree by node id; see scrapers/domread.py.",
    -1,
    dom_methods,
};

PyMODINIT_FUNC
PyInit__lexbor_read(void)
{
    if (load_lexbor() < 0)
        return NULL;
    return PyModule_Create(&dom_module);
}
