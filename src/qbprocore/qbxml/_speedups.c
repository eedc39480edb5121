/*
 * qbprocore.qbxml._speedups: the typed tree walk of qbprocore.qbxml.loads/iterparse, in C.
 *
 * lxml parses the document (with the same safe parser as always); this module then walks the
 * libxml2 tree lxml built and turns each record into its typed model, as the Python builders
 * in _parse.py do, without making a Python proxy object for every element.
 *
 * It only takes the common road. Whenever it meets something the Python builder treats in a
 * way of its own (an element the schema doesn't describe, a value that doesn't convert, mixed
 * content, a namespace), it raises Fallback, and the caller builds that element with the
 * Python builder instead, which gives the same result or the same precise error. So the
 * Python builder stays the one definition of what a document means; this is a shortcut to it.
 *
 * A Plan is compiled once from the model specs by _parse.py: per model class, the class, a
 * dict of default field values, the list fields, and one entry per child tag and attribute
 * saying which field it fills and how.
 *
 * Plan.parse() goes further for qbprocore.qbxml.loads: it reads a whole document through
 * libxml2's SAX interface and builds the records from the parser's events, with no tree at all,
 * declining (None) anything out of the ordinary (see its comment).
 *
 * char_data() and soap_call(), at the end, serve the SOAP codec of qbprocore.qbwc: the first
 * decodes the long escaped qbXML text of a receiveResponseXML body in one pass, the second
 * reads a Web Connector call through libxml2's SAX interface (see their comments).
 */

#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <datetime.h>
#include <string.h>

#include <libxml/parser.h>
#include <libxml/tree.h>
#include <libxml/xmlerror.h>

#if defined(__unix__) || defined(__APPLE__)
#include <dlfcn.h>
#endif
#include <limits.h>

/*
 * The start of lxml.etree._Element's C struct (lxml.etree.h: PyObject_HEAD, _doc, _c_node),
 * the same since lxml 2.0. The walk only reads the tree; the proxy passed in keeps it alive.
 */
typedef struct {
    PyObject_HEAD
    void *doc;
    xmlNode *c_node;
} LxmlElement;

/* How a child element is read (the same numbers as _READ_* in _parse.py). */
enum { READ_TEXT = 0, READ_CONVERTED = 1, READ_RECORD = 2 };

/* What a text value is converted to. */
enum { K_TEXT = 0, K_ENUM, K_BOOL, K_INT, K_DATE, K_DATETIME, K_DECIMAL, K_LAST = K_DECIMAL };

/* Records nest a few levels deep; anything deeper is left to the Python builder. */
#define MAX_DEPTH 64

typedef struct {
    char *tag;          /* element or attribute name, UTF-8, owned */
    PyObject *attr;     /* the model field it fills (str) */
    int how;            /* READ_* (attributes: always READ_CONVERTED) */
    int kind;           /* K_* */
    int is_list;
    PyObject *members;  /* K_ENUM: dict of value -> enum member, or NULL (keep the text) */
    Py_ssize_t sub;     /* READ_RECORD: index of the nested record's spec */
} Field;

typedef struct {
    PyTypeObject *cls;
    PyObject *defaults;   /* dict: every field -> None (a repeated one -> ()), unknown_elements -> () */
    PyObject *lists;      /* tuple of the repeated fields' names */
    Field *fields;        /* child elements, in schema order */
    Py_ssize_t n_fields;
    Field *attributes;    /* XML attributes */
    Py_ssize_t n_attributes;
} Spec;

typedef struct {
    PyObject_HEAD
    Spec *specs;
    Py_ssize_t n_specs;
    PyObject *date_fromisoformat;
    PyObject *datetime_fromisoformat;
    PyObject *decimal;
    int iso_datetime;   /* datetime_fromisoformat is datetime.datetime.fromisoformat */
} Plan;

static PyObject *Fallback;         /* the exception that hands an element to Python */
static PyTypeObject *ElementType;  /* lxml.etree._Element */
static PyObject *str_dict;         /* "__dict__" */

/* -- raising Fallback ------------------------------------------------------------------- */

static PyObject *
fallback(void)
{
    PyErr_SetNone(Fallback);
    return NULL;
}

/* A converter failed: hand the element to Python (which raises the precise error), unless
 * the failure is one no retry can help (out of memory, an interrupt). */
static PyObject *
conversion_failed(void)
{
    if (PyErr_ExceptionMatches(PyExc_Exception) && !PyErr_ExceptionMatches(PyExc_MemoryError)) {
        PyErr_Clear();
        return fallback();
    }
    return NULL;
}

/* -- reading values ------------------------------------------------------------------------ */

/*
 * The text held by an element's or attribute's children, as lxml gives it when they are at
 * most one text node: *text is ``empty`` when there are none (NULL for an element, whose
 * .text is then None; "" for an attribute). Returns -1 (Fallback set) for any other content,
 * which the Python builder reads its own way.
 */
static int
single_text(xmlNode *children, const xmlChar *empty, const xmlChar **text)
{
    if (children == NULL) {
        *text = empty;
        return 0;
    }
    if (children->type == XML_TEXT_NODE && children->next == NULL && children->content != NULL) {
        *text = children->content;
        return 0;
    }
    fallback();
    return -1;
}

static PyObject *
decode(const xmlChar *text)
{
    return PyUnicode_DecodeUTF8((const char *)text, (Py_ssize_t)strlen((const char *)text),
                                "strict");
}

static PyObject *
call_with_text(PyObject *fn, const xmlChar *text)
{
    PyObject *s = decode(text);
    if (s == NULL) {
        return NULL;
    }
    PyObject *value = PyObject_CallOneArg(fn, s);
    Py_DECREF(s);
    return value == NULL ? conversion_failed() : value;
}

/* Convert a non-empty text value to the field's type, as _scalar_text_converter does. */
/* n ASCII digits at p as a number, or -1. */
static int
digits(const char *p, int n)
{
    int value = 0;
    for (int i = 0; i < n; i++) {
        if (p[i] < '0' || p[i] > '9') {
            return -1;
        }
        value = value * 10 + (p[i] - '0');
    }
    return value;
}

/* The time zone of an offset in minutes (-1439 .. 1439), made once and kept: timezones are
 * immutable, and PyTimeZone_FromOffset gives timezone.utc for 0, as fromisoformat does. */
static PyObject *zones[2 * 1439 + 1];

static PyObject *
zone(int minutes)
{
    PyObject **slot = &zones[minutes + 1439];
    if (*slot == NULL) {
        PyObject *delta = PyDelta_FromDSU(0, minutes * 60, 0);
        if (delta == NULL) {
            return NULL;
        }
        *slot = PyTimeZone_FromOffset(delta);
        Py_DECREF(delta);
    }
    return *slot;
}

/*
 * A date-time in the form QuickBooks writes, "2026-01-05T09:00:00" with or without an offset
 * ("-08:00"), made as datetime.fromisoformat makes it; NULL without an exception for text of
 * any other form (fromisoformat then reads it). Out of range values (a 31st of April) raise
 * ValueError, from the datetime API's own checks, as from fromisoformat.
 */
static PyObject *
quick_datetime(const char *t, size_t len)
{
    if ((len != 19 && len != 25) || t[4] != '-' || t[7] != '-' || t[10] != 'T' ||
        t[13] != ':' || t[16] != ':') {
        return NULL;
    }
    int year = digits(t, 4), month = digits(t + 5, 2), day = digits(t + 8, 2);
    int hour = digits(t + 11, 2), minute = digits(t + 14, 2), second = digits(t + 17, 2);
    if (year < 0 || month < 0 || day < 0 || hour < 0 || minute < 0 || second < 0) {
        return NULL;
    }
    PyObject *tz = Py_None;
    if (len == 25) {
        int off_hour = digits(t + 20, 2), off_minute = digits(t + 23, 2);
        if ((t[19] != '+' && t[19] != '-') || t[22] != ':' || off_hour < 0 || off_hour > 23 ||
            off_minute < 0 || off_minute > 59) {
            return NULL;
        }
        int minutes = off_hour * 60 + off_minute;
        tz = zone(t[19] == '-' ? -minutes : minutes);
        if (tz == NULL) {
            return NULL;
        }
    }
    return PyDateTimeAPI->DateTime_FromDateAndTime(year, month, day, hour, minute, second, 0, tz,
                                                   PyDateTimeAPI->DateTimeType);
}

static PyObject *
convert(Plan *plan, const Field *f, const xmlChar *text)
{
    const char *t = (const char *)text;
    switch (f->kind) {
    case K_TEXT:
        return decode(text);
    case K_ENUM: {
        PyObject *s = decode(text);
        if (s == NULL || f->members == NULL) {
            return s;
        }
        /* Unknown values are kept as plain strings, as the Python builder keeps them. */
        PyObject *member = PyDict_GetItemWithError(f->members, s);
        if (member != NULL) {
            Py_INCREF(member);
            Py_DECREF(s);
            return member;
        }
        if (PyErr_Occurred()) {
            Py_DECREF(s);
            return NULL;
        }
        return s;
    }
    case K_BOOL:
        if (!strcmp(t, "true") || !strcmp(t, "1") || !strcmp(t, "True")) {
            Py_RETURN_TRUE;
        }
        if (!strcmp(t, "false") || !strcmp(t, "0") || !strcmp(t, "False")) {
            Py_RETURN_FALSE;
        }
        return fallback();
    case K_INT: {
        PyObject *s = decode(text);
        if (s == NULL) {
            return NULL;
        }
        PyObject *value = PyLong_FromUnicodeObject(s, 10); /* what int(s) does */
        Py_DECREF(s);
        return value == NULL ? conversion_failed() : value;
    }
    case K_DATE:
        return call_with_text(plan->date_fromisoformat, text);
    case K_DATETIME:
        if (plan->iso_datetime) {
            PyObject *value = quick_datetime(t, strlen(t));
            if (value != NULL || PyErr_Occurred()) {
                return value == NULL ? conversion_failed() : value;
            }
        }
        /* Shortened forms ("2024-01-02T10") are filled in by the Python builder. */
        return call_with_text(plan->datetime_fromisoformat, text);
    case K_DECIMAL:
        /* Decimal() also reads NaN, Infinity and sNaN, which no amount can be: leave those
         * (and the error they deserve) to the Python builder. */
        if (strpbrk(t, "nNiIsS") != NULL) {
            return fallback();
        }
        return call_with_text(plan->decimal, text);
    default:
        PyErr_Format(PyExc_SystemError, "qbprocore.qbxml._speedups: unknown kind %d", f->kind);
        return NULL;
    }
}

/* -- the walk ------------------------------------------------------------------------------ */

/*
 * The field a child tag fills. Children come in schema order, so the search starts at the
 * field last matched (a repeated element matches it again) and wraps around.
 */
static const Field *
find_field(const Spec *spec, const char *tag, Py_ssize_t *cursor)
{
    for (Py_ssize_t i = *cursor; i < spec->n_fields; i++) {
        if (!strcmp(spec->fields[i].tag, tag)) {
            *cursor = i;
            return &spec->fields[i];
        }
    }
    for (Py_ssize_t i = 0; i < *cursor; i++) {
        if (!strcmp(spec->fields[i].tag, tag)) {
            *cursor = i;
            return &spec->fields[i];
        }
    }
    return NULL;
}

/* Whether the cyclic garbage collector would look into value, read into field f. An enum
 * member counts as out of sight: it is a long-lived singleton of its class, holding no record
 * (and attributes, read straight into the dict, are scalars or enum members). */
static int
in_sight(const Field *f, PyObject *value)
{
    return f->kind != K_ENUM && PyObject_IS_GC(value) && PyObject_GC_IsTracked(value);
}

static int
read_attributes(Plan *plan, const Spec *spec, xmlNode *node, PyObject *values, int *sighted)
{
    for (xmlAttr *a = node->properties; a != NULL; a = a->next) {
        if (a->ns != NULL) {
            continue; /* {namespace}name: no field has that name */
        }
        for (Py_ssize_t i = 0; i < spec->n_attributes; i++) {
            const Field *f = &spec->attributes[i];
            if (strcmp(f->tag, (const char *)a->name)) {
                continue;
            }
            const xmlChar *text;
            if (single_text(a->children, (const xmlChar *)"", &text) < 0) {
                return -1;
            }
            /* The Python builder converts an attribute even when empty: as text that is "";
             * for any other kind, what it makes of "" (an error, or an unknown enum value)
             * is left to it. */
            PyObject *value = f->kind == K_TEXT ? decode(text)
                              : *text == '\0'   ? fallback()
                                                : convert(plan, f, text);
            if (value == NULL) {
                return -1;
            }
            *sighted |= in_sight(f, value);
            int rc = PyDict_SetItem(values, f->attr, value);
            Py_DECREF(value);
            if (rc < 0) {
                return -1;
            }
            break;
        }
    }
    return 0;
}

static PyObject *build(Plan *plan, const Spec *spec, xmlNode *node, int depth);

/* Read one child element into values (a new reference to its value, or None for "not set"). */
static PyObject *
read_child(Plan *plan, const Field *f, xmlNode *child, int depth)
{
    if (f->how == READ_RECORD) {
        return build(plan, &plan->specs[f->sub], child, depth + 1);
    }
    const xmlChar *text;
    if (single_text(child->children, NULL, &text) < 0) {
        return NULL;
    }
    if (f->how == READ_TEXT) {
        /* An empty element is an empty string: it clears the field. */
        return text == NULL ? PyUnicode_FromStringAndSize("", 0) : decode(text);
    }
    if (text == NULL) {
        Py_RETURN_NONE; /* an empty converted element leaves the field unset */
    }
    return convert(plan, f, text);
}

/* A repeated field's items are gathered in a list, made at its first item (most repeated
 * fields are empty, and stay the shared empty tuple the defaults hold) ... */
static int
append_item(PyObject *values, PyObject *attr, PyObject *value)
{
    PyObject *items = PyDict_GetItem(values, attr); /* borrowed; () from the defaults */
    if (items != NULL && PyList_CheckExact(items)) {
        return PyList_Append(items, value);
    }
    PyObject *list = PyList_New(1);
    if (list == NULL) {
        return -1;
    }
    PyList_SET_ITEM(list, 0, Py_NewRef(value));
    int rc = PyDict_SetItem(values, attr, list);
    Py_DECREF(list);
    return rc;
}

/* ... and kept as a tuple, as the Python builder and the models' constructors keep them
 * (out of the cyclic collector's sight when no item is in it: see make_record). */
static int
freeze_lists(const Spec *spec, PyObject *values, int settle)
{
    for (Py_ssize_t i = 0; i < PyTuple_GET_SIZE(spec->lists); i++) {
        PyObject *attr = PyTuple_GET_ITEM(spec->lists, i);
        PyObject *items = PyDict_GetItem(values, attr);
        if (items == NULL || !PyList_CheckExact(items)) {
            continue; /* empty: still the defaults' () */
        }
        PyObject *frozen = PyList_AsTuple(items);
        if (frozen == NULL) {
            return -1;
        }
        if (settle) {
            PyObject_GC_UnTrack(frozen);
        }
        int rc = PyDict_SetItem(values, attr, frozen);
        Py_DECREF(frozen);
        if (rc < 0) {
            return -1;
        }
    }
    return 0;
}

/*
 * A finished record: a bare instance, then object.__setattr__(obj, "__dict__", values). The
 * models are frozen, and their constructor's checks are for values from code, not from a
 * parser. tp_alloc, not object.__new__: that would also give the instance an empty attribute
 * table of its own, only for it to be turned into a dict and thrown away here.
 *
 * Unless a value in it is something the collector looks into (``sighted``: only a converter
 * of another Plan than _parse.py's makes such values), the record and its field dict are then
 * taken out of the cyclic collector's sight. Such a record is immutable and holds text,
 * numbers, dates, enum members and tuples of records built the same way, so no reference
 * cycle can pass through it: the collector would only visit it, on every collection, to find
 * nothing. CPython does the same for tuples and dicts of such values; here it saves a pass
 * over every record of a large document right after it is read, and over the records a
 * program keeps at every later full collection.
 */
static PyObject *
make_record(const Spec *spec, PyObject *values, int sighted)
{
    PyObject *obj = spec->cls->tp_alloc(spec->cls, 0);
    if (obj == NULL) {
        return NULL;
    }
    if (PyObject_GenericSetAttr(obj, str_dict, values) < 0) {
        Py_DECREF(obj);
        return NULL;
    }
    if (!sighted) {
        if (PyObject_GC_IsTracked(values)) {
            PyObject_GC_UnTrack(values);
        }
        PyObject_GC_UnTrack(obj);
    }
    return obj;
}

static PyObject *
build(Plan *plan, const Spec *spec, xmlNode *node, int depth)
{
    if (depth > MAX_DEPTH) {
        return fallback();
    }
    PyObject *values = PyDict_Copy(spec->defaults);
    if (values == NULL) {
        return NULL;
    }
    int sighted = 0, items_sighted = 0;
    if (spec->n_attributes && node->properties != NULL &&
        read_attributes(plan, spec, node, values, &sighted) < 0) {
        goto error;
    }
    Py_ssize_t cursor = 0;
    for (xmlNode *child = node->children; child != NULL; child = child->next) {
        if (child->type != XML_ELEMENT_NODE) {
            continue; /* whitespace, comments and processing instructions are not content */
        }
        if (child->ns != NULL) {
            fallback(); /* a namespaced element: not part of qbXML, kept by Python */
            goto error;
        }
        const Field *f = find_field(spec, (const char *)child->name, &cursor);
        if (f == NULL) {
            fallback(); /* an element the schema doesn't describe */
            goto error;
        }
        PyObject *value = read_child(plan, f, child, depth);
        if (value == NULL) {
            goto error;
        }
        int rc;
        if (f->is_list) {
            items_sighted |= in_sight(f, value);
            rc = value == Py_None ? 0 : append_item(values, f->attr, value);
        }
        else {
            sighted |= in_sight(f, value);
            rc = PyDict_SetItem(values, f->attr, value);
        }
        Py_DECREF(value);
        if (rc < 0) {
            goto error;
        }
    }
    if (freeze_lists(spec, values, !items_sighted) < 0) {
        goto error;
    }
    PyObject *obj = make_record(spec, values, sighted || items_sighted);
    Py_DECREF(values);
    return obj;
error:
    Py_DECREF(values);
    return NULL;
}

/* -- a whole document, read through libxml2's SAX interface -------------------------------- */

/*
 * The walk above reads the tree lxml builds, and building that tree (a node for every element
 * and every text) costs libxml2 more than reading the document does. parse() reads a whole
 * qbXML document with the parser lxml uses (the same libxml2, found in the library lxml.etree
 * is linked with, with lxml's options) through its SAX interface, and builds the records from
 * the parser's events with the same Specs, so that no tree is made at all.
 *
 * It takes the common road only, more narrowly than the walk: at anything out of the ordinary
 * (any error or warning from the parser, a DOCTYPE, an entity the parser leaves unexpanded, a
 * namespace, an element the schema doesn't describe, anything but text inside a value, a '&'
 * in an attribute value, a value that doesn't convert, anything in the root but one message
 * set) it stops and returns None. The caller then parses the document with lxml and the walk,
 * which gives the same result or the same error. libxml2's tree builder refuses a text node of
 * more than 10,000,000 bytes where the parser alone would not, so texts over a million bytes
 * are declined too.
 *
 * Where libxml2's functions cannot be found, or lxml runs another libxml2 than the headers this
 * was compiled with, HAVE_SAX is False and every document takes the lxml road.
 *
 * It holds the GIL throughout, since every event makes Python objects; the lxml road let
 * other threads run while libxml2 built the tree, and held the GIL for the walk. Documents
 * large enough for that to matter are streamed by qbprocore.qbwc (qbxml.iterparse), not
 * read whole.
 */

/* lxml's options for qbprocore's qbXML parser: its defaults without XML_PARSE_NOENT. */
#define SAX_OPTIONS (XML_PARSE_NOCDATA | XML_PARSE_NONET | XML_PARSE_COMPACT | XML_PARSE_BIG_LINES)
#define SAX_MAX_TEXT 1000000

static struct {
    xmlParserCtxtPtr (*new_ctxt)(void);
    xmlDocPtr (*read_memory)(xmlParserCtxtPtr, const char *, int, const char *, const char *, int);
    void (*free_ctxt)(xmlParserCtxtPtr);
    void (*free_doc)(xmlDocPtr);
    void (*stop)(xmlParserCtxtPtr);
    const xmlError *(*last_error)(void *);
} lx;
static int have_sax;

/* The start of both SAX readers' state (Sax, below, and Soap, for soap_call): the parser and
 * whether the reader has stopped. The callbacks that only decline serve both. */
typedef struct {
    xmlParserCtxtPtr ctxt;
    int stop; /* 1: declined; 2: a Python error is set */
} Road;

static Road *
road_of(void *ctx)
{
    return (Road *)((xmlParserCtxtPtr)ctx)->_private;
}

static void
declined(Road *r)
{
    if (!r->stop) {
        r->stop = 1;
        lx.stop(r->ctxt);
    }
}

static void
raised(Road *r)
{
    r->stop = 2;
    lx.stop(r->ctxt);
}

/*
 * Read data (bytes of at most INT_MAX) through a new parser context with handler and options,
 * road (the start of the reader's state) seeing the events. Returns 1 when the document was
 * well-formed without an error or warning, 0 when not, -1 (MemoryError set) when no context
 * could be made. If encoding is given, it receives the declared encoding as a new str, or
 * NULL (none declared, or the reader stopped); a name that is not ASCII stops the reader.
 */
static int
road_read(Road *road, const xmlSAXHandler *handler, PyObject *data, int options,
          PyObject **encoding)
{
    if (encoding != NULL) {
        *encoding = NULL;
    }
    xmlParserCtxtPtr ctxt = lx.new_ctxt();
    if (ctxt == NULL || ctxt->sax == NULL) {
        if (ctxt != NULL) {
            lx.free_ctxt(ctxt);
        }
        PyErr_NoMemory();
        return -1;
    }
    *ctxt->sax = *handler;
    ctxt->_private = road;
    road->ctxt = ctxt;
    xmlDocPtr doc = lx.read_memory(ctxt, PyBytes_AS_STRING(data), (int)PyBytes_GET_SIZE(data),
                                   NULL, NULL, options);
    if (doc != NULL) { /* nothing builds one; should anything, it is not wanted */
        lx.free_doc(doc);
    }
    int well_formed = ctxt->wellFormed && lx.last_error(ctxt) == NULL;
    if (encoding != NULL) {
        if (!road->stop && well_formed && ctxt->encoding != NULL) {
            *encoding = PyUnicode_DecodeASCII((const char *)ctxt->encoding,
                                              (Py_ssize_t)strlen((const char *)ctxt->encoding),
                                              "strict");
            if (*encoding == NULL) {
                PyErr_Clear(); /* an encoding name is ASCII; anything else is odd */
                road->stop = 1;
            }
        }
    }
    lx.free_ctxt(ctxt);
    road->ctxt = NULL;
    return well_formed;
}

typedef struct {
    const Spec *spec;
    const Field *field; /* the field it fills in the record below it; NULL for a message */
    PyObject *values;   /* the record's __dict__ as it is read */
    Py_ssize_t cursor;
    int listed;         /* a repeated field was read (its list is made a tuple at the end) */
    int sighted;        /* a value the cyclic collector looks into was read (make_record) */
    int items_sighted;  /* the same, as an item of a repeated field */
} Frame;

typedef struct {
    Road road;               /* first: the callbacks that only decline see a Road */
    Plan *plan;
    PyObject *containers[2]; /* message tag -> spec number, in QBXMLMsgsRq and QBXMLMsgsRs */
    int level;               /* elements open */
    int msgs;                /* the message set read: 0 none yet, 1 QBXMLMsgsRq, 2 QBXMLMsgsRs */
    int root_seen;
    PyObject *on_error;      /* QBXMLMsgsRq's onError, or NULL */
    PyObject *pi;            /* the text of the last <?qbxml?> before the root, or NULL */
    PyObject *messages;      /* list */
    Frame frames[MAX_DEPTH + 1];
    Py_ssize_t n_frames;
    const Field *leaf;       /* the value element open, or NULL */
    int leaf_has_text;
    char *text;              /* its text so far, NUL-terminated */
    size_t len, cap;
    size_t run;              /* bytes of the text node being read outside a value */
    PyObject *moment;        /* the last date-time read, and its text: a record's TimeCreated */
    char moment_text[48];    /* and TimeModified are often the same, and so are neighbours' */
    size_t moment_len;
} Sax;

static Sax *
sax_of(void *ctx)
{
    return (Sax *)((xmlParserCtxtPtr)ctx)->_private;
}

/* The state an event works on, or NULL once the road has stopped. Markup (a tag, a comment,
 * a processing instruction) ends the text node being read outside a value. */
static Sax *
awake(void *ctx, int markup)
{
    Sax *s = sax_of(ctx);
    if (s->road.stop) {
        return NULL;
    }
    if (markup) {
        s->run = 0;
    }
    return s;
}

static void
decline(Sax *s)
{
    declined(&s->road);
}

/* A C-API call failed: Fallback (or a conversion error) declines; anything else is kept. */
static void
trouble(Sax *s)
{
    if (PyErr_ExceptionMatches(Fallback)) {
        PyErr_Clear();
        decline(s);
        return;
    }
    raised(&s->road);
}

/* Put value (a new reference, or NULL after an error) into field f of frame's record. */
static void
store(Sax *s, Frame *frame, const Field *f, PyObject *value)
{
    if (value == NULL) {
        trouble(s);
        return;
    }
    int rc = 0;
    if (!f->is_list) {
        frame->sighted |= in_sight(f, value);
        rc = PyDict_SetItem(frame->values, f->attr, value);
    }
    else if (value != Py_None) {
        frame->listed = 1;
        frame->items_sighted |= in_sight(f, value);
        rc = append_item(frame->values, f->attr, value);
    }
    Py_DECREF(value);
    if (rc < 0) {
        trouble(s);
    }
}

/* A new record's frame, with its attributes read. */
static void
open_record(Sax *s, const Spec *spec, const Field *field, int nb_attributes,
            const xmlChar **attributes)
{
    if (s->n_frames > MAX_DEPTH) {
        decline(s);
        return;
    }
    PyObject *values = PyDict_Copy(spec->defaults);
    if (values == NULL) {
        trouble(s);
        return;
    }
    Frame *frame = &s->frames[s->n_frames++];
    frame->spec = spec;
    frame->field = field;
    frame->values = values;
    frame->cursor = 0;
    frame->listed = 0;
    frame->sighted = 0;
    frame->items_sighted = 0;
    for (int i = 0; i < nb_attributes && spec->n_attributes && !s->road.stop; i++) {
        const xmlChar **a = attributes + 5 * i; /* localname, prefix, URI, value, end */
        if (a[1] != NULL) {
            continue; /* {namespace}name: no field has that name */
        }
        for (Py_ssize_t k = 0; k < spec->n_attributes; k++) {
            const Field *f = &spec->attributes[k];
            if (strcmp(f->tag, (const char *)a[0])) {
                continue;
            }
            size_t n = (size_t)(a[4] - a[3]);
            /* libxml2 hands a tree builder "&" in attribute values still escaped for it */
            if (memchr(a[3], '&', n) != NULL || n == 0) {
                decline(s); /* and the walk leaves an empty converted attribute to Python */
                break;
            }
            char *copy = PyMem_Malloc(n + 1);
            if (copy == NULL) {
                PyErr_NoMemory();
                trouble(s);
                break;
            }
            memcpy(copy, a[3], n);
            copy[n] = '\0';
            PyObject *value = f->kind == K_TEXT ? decode((const xmlChar *)copy)
                                                : convert(s->plan, f, (const xmlChar *)copy);
            PyMem_Free(copy);
            if (value == NULL) {
                trouble(s);
                break;
            }
            frame->sighted |= in_sight(f, value);
            int rc = PyDict_SetItem(values, f->attr, value);
            Py_DECREF(value);
            if (rc < 0) {
                trouble(s);
            }
            break;
        }
    }
}

/* The record on top is whole: make it and put it where it belongs. */
static void
close_record(Sax *s)
{
    Frame *frame = &s->frames[--s->n_frames];
    PyObject *values = frame->values;
    frame->values = NULL;
    PyObject *obj = NULL;
    if (!frame->listed || freeze_lists(frame->spec, values, !frame->items_sighted) == 0) {
        obj = make_record(frame->spec, values, frame->sighted || frame->items_sighted);
    }
    Py_DECREF(values);
    if (s->n_frames == 0) { /* a message */
        if (obj == NULL || PyList_Append(s->messages, obj) < 0) {
            trouble(s);
        }
        Py_XDECREF(obj);
        return;
    }
    store(s, &s->frames[s->n_frames - 1], frame->field, obj);
}

static void
on_start(void *ctx, const xmlChar *name, const xmlChar *prefix, const xmlChar *uri,
         int nb_namespaces, const xmlChar **namespaces, int nb_attributes, int nb_defaulted,
         const xmlChar **attributes)
{
    (void)nb_namespaces;
    (void)namespaces;
    (void)nb_defaulted;
    Sax *s = awake(ctx, 1);
    if (s == NULL) {
        return;
    }
    int level = s->level++;
    if (prefix != NULL || uri != NULL || s->leaf != NULL) {
        decline(s); /* a namespace, or an element inside a value */
        return;
    }
    const char *tag = (const char *)name;
    if (level == 0) {
        if (strcmp(tag, "QBXML")) {
            decline(s);
        }
        s->root_seen = 1;
        return;
    }
    if (level == 1) {
        int msgs = !strcmp(tag, "QBXMLMsgsRq") ? 1 : !strcmp(tag, "QBXMLMsgsRs") ? 2 : 0;
        if (msgs == 0 || s->msgs) {
            decline(s); /* anything but one message set: the lxml road reads it its way */
            return;
        }
        s->msgs = msgs;
        for (int i = 0; i < nb_attributes && msgs == 1; i++) {
            const xmlChar **a = attributes + 5 * i;
            if (a[1] == NULL && !strcmp((const char *)a[0], "onError")) {
                size_t n = (size_t)(a[4] - a[3]);
                if (memchr(a[3], '&', n) != NULL) {
                    decline(s);
                    return;
                }
                PyObject *on_error =
                    PyUnicode_DecodeUTF8((const char *)a[3], (Py_ssize_t)n, "strict");
                if (on_error == NULL) {
                    trouble(s);
                    return;
                }
                Py_XSETREF(s->on_error, on_error); /* (libxml2 refuses a repeated attribute) */
            }
        }
        return;
    }
    if (level == 2) {
        PyObject *number = PyDict_GetItemString(s->containers[s->msgs - 1], tag);
        if (number == NULL) {
            decline(s); /* a message this message set doesn't hold: an unknown element */
            return;
        }
        Py_ssize_t index = PyLong_AsSsize_t(number);
        if (index < 0 || index >= s->plan->n_specs) {
            if (!PyErr_Occurred()) {
                PyErr_Format(PyExc_IndexError, "no spec number %zd", index);
            }
            trouble(s);
            return;
        }
        open_record(s, &s->plan->specs[index], NULL, nb_attributes, attributes);
        return;
    }
    Frame *top = &s->frames[s->n_frames - 1];
    const Field *f = find_field(top->spec, tag, &top->cursor);
    if (f == NULL) {
        decline(s); /* an element the schema doesn't describe */
        return;
    }
    if (f->how == READ_RECORD) {
        open_record(s, &s->plan->specs[f->sub], f, nb_attributes, attributes);
        return;
    }
    s->leaf = f;
    s->leaf_has_text = 0;
    s->len = 0;
}

static void
on_end(void *ctx, const xmlChar *name, const xmlChar *prefix, const xmlChar *uri)
{
    (void)name;
    (void)prefix;
    (void)uri;
    Sax *s = awake(ctx, 1);
    if (s == NULL) {
        return;
    }
    int level = --s->level;
    if (s->leaf != NULL) {
        const Field *f = s->leaf;
        s->leaf = NULL;
        PyObject *value;
        if (f->how == READ_TEXT) {
            /* An empty element is an empty string: it clears the field. */
            value = PyUnicode_DecodeUTF8(s->text, (Py_ssize_t)s->len, "strict");
        }
        else if (!s->leaf_has_text) {
            value = Py_NewRef(Py_None); /* an empty converted element leaves the field unset */
        }
        else if (f->kind == K_DATETIME && s->moment != NULL && s->len == s->moment_len &&
                 !memcmp(s->text, s->moment_text, s->len)) {
            value = Py_NewRef(s->moment); /* datetimes are immutable: one can serve both */
        }
        else {
            value = convert(s->plan, f, (const xmlChar *)s->text);
            if (value != NULL && f->kind == K_DATETIME && s->len <= sizeof s->moment_text) {
                memcpy(s->moment_text, s->text, s->len);
                s->moment_len = s->len;
                Py_XSETREF(s->moment, Py_NewRef(value));
            }
        }
        store(s, &s->frames[s->n_frames - 1], f, value);
        return;
    }
    if (level >= 2) {
        close_record(s);
    }
}

static void
on_characters(void *ctx, const xmlChar *ch, int len)
{
    Sax *s = awake(ctx, 0);
    if (s == NULL) {
        return;
    }
    if (s->leaf == NULL) {
        s->run += (size_t)len; /* not content; only its length matters (see above) */
        if (s->run > SAX_MAX_TEXT) {
            decline(s);
        }
        return;
    }
    s->leaf_has_text = 1;
    if (s->len + (size_t)len > SAX_MAX_TEXT) {
        decline(s);
        return;
    }
    if (s->len + (size_t)len + 1 > s->cap) {
        size_t cap = 2 * (s->len + (size_t)len + 1);
        char *text = PyMem_Realloc(s->text, cap);
        if (text == NULL) {
            PyErr_NoMemory();
            trouble(s);
            return;
        }
        s->text = text;
        s->cap = cap;
    }
    memcpy(s->text + s->len, ch, (size_t)len);
    s->len += (size_t)len;
    s->text[s->len] = '\0';
}

static void
on_pi(void *ctx, const xmlChar *target, const xmlChar *data)
{
    Sax *s = awake(ctx, 1);
    if (s == NULL) {
        return;
    }
    if (s->leaf != NULL) {
        decline(s); /* inside a value: the walk leaves that to Python */
        return;
    }
    if (s->level == 0 && !s->root_seen && !strcmp((const char *)target, "qbxml")) {
        const char *text = data == NULL ? "" : (const char *)data;
        PyObject *pi = PyUnicode_DecodeUTF8(text, (Py_ssize_t)strlen(text), "strict");
        if (pi == NULL) {
            trouble(s);
            return;
        }
        Py_XSETREF(s->pi, pi);
    }
}

static void
on_comment(void *ctx, const xmlChar *value)
{
    (void)value;
    Sax *s = awake(ctx, 1);
    if (s == NULL) {
        return;
    }
    if (s->leaf != NULL) {
        decline(s);
    }
}

static void
on_cdata(void *ctx, const xmlChar *value, int len)
{
    (void)value;
    (void)len;
    declined(road_of(ctx)); /* lxml asks for CDATA as text; a section reported as such is odd */
}

static void
on_reference(void *ctx, const xmlChar *name)
{
    (void)name;
    declined(road_of(ctx)); /* an entity left unexpanded */
}

static xmlEntityPtr
on_get_entity(void *ctx, const xmlChar *name)
{
    (void)name;
    declined(road_of(ctx)); /* any entity but the five predefined ones */
    return NULL;
}

static void
on_subset(void *ctx, const xmlChar *name, const xmlChar *external_id, const xmlChar *system_id)
{
    (void)name;
    (void)external_id;
    (void)system_id;
    declined(road_of(ctx)); /* a DOCTYPE: the lxml road refuses it */
}

static void
on_error(void *data, const xmlError *error)
{
    (void)data; /* nothing printed; the context keeps the error, which declines (see parse) */
    (void)error;
}

static xmlSAXHandler sax_handler = {
    .internalSubset = on_subset,
    .getEntity = on_get_entity,
    .reference = on_reference,
    .characters = on_characters,
    .ignorableWhitespace = on_characters,
    .processingInstruction = on_pi,
    .comment = on_comment,
    .cdataBlock = on_cdata,
    .externalSubset = on_subset,
    .initialized = XML_SAX2_MAGIC,
    .startElementNs = on_start,
    .endElementNs = on_end,
    .serror = on_error,
};

static void
sax_clear(Sax *s)
{
    for (Py_ssize_t i = 0; i < s->n_frames; i++) {
        Py_CLEAR(s->frames[i].values);
    }
    s->n_frames = 0;
    Py_CLEAR(s->on_error);
    Py_CLEAR(s->pi);
    Py_CLEAR(s->moment);
    Py_CLEAR(s->messages);
    PyMem_Free(s->text);
    s->text = NULL;
}

PyDoc_STRVAR(Plan_parse_doc,
             "parse(data, requests, responses, /)\n--\n\n"
             "Read a whole qbXML document through libxml2's SAX interface: (message set tag,\n"
             "onError or None, messages, text of the <?qbxml?> before the root or None), or\n"
             "None for anything out of the ordinary. requests and responses map the tags of\n"
             "the messages each message set holds to their spec numbers.");

static PyObject *
Plan_parse(Plan *self, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 3 || !PyBytes_Check(args[0]) || !PyDict_Check(args[1]) ||
        !PyDict_Check(args[2])) {
        PyErr_SetString(PyExc_TypeError, "parse() takes bytes and two dicts");
        return NULL;
    }
    Py_ssize_t size = PyBytes_GET_SIZE(args[0]);
    if (!have_sax || size > INT_MAX) {
        Py_RETURN_NONE;
    }
    Sax s;
    memset(&s, 0, sizeof s);
    s.plan = self;
    s.containers[0] = args[1];
    s.containers[1] = args[2];
    s.messages = PyList_New(0);
    if (s.messages == NULL) {
        return NULL;
    }
    int well_formed = road_read(&s.road, &sax_handler, args[0], SAX_OPTIONS, NULL);
    if (well_formed < 0 || s.road.stop == 2) {
        sax_clear(&s);
        return NULL;
    }
    if (s.road.stop || !well_formed || !s.msgs || s.level != 0) {
        sax_clear(&s);
        Py_RETURN_NONE;
    }
    PyObject *result = Py_BuildValue("sOOO", s.msgs == 1 ? "QBXMLMsgsRq" : "QBXMLMsgsRs",
                                     s.on_error ? s.on_error : Py_None, s.messages,
                                     s.pi ? s.pi : Py_None);
    sax_clear(&s);
    return result;
}

/* Find libxml2's functions in the library lxml.etree is linked with (lxml exports them). */
static int
find_libxml2(PyObject *etree)
{
#if defined(__unix__) || defined(__APPLE__)
    PyObject *version = PyObject_GetAttrString(etree, "LIBXML_VERSION");
    PyObject *file = PyObject_GetAttrString(etree, "__file__");
    PyObject *path = file == NULL ? NULL : PyUnicode_EncodeFSDefault(file);
    int a = -1, b = -1, c = -1;
    int same = version != NULL && PyArg_ParseTuple(version, "iii", &a, &b, &c) &&
               a * 10000 + b * 100 + c == LIBXML_VERSION;
    void *lib = same && path != NULL ? dlopen(PyBytes_AS_STRING(path), RTLD_LAZY | RTLD_NOLOAD)
                                     : NULL;
    Py_XDECREF(version);
    Py_XDECREF(file);
    Py_XDECREF(path);
    PyErr_Clear();
    if (lib == NULL) {
        return 0;
    }
    /* dlsym gives a data pointer; POSIX guarantees it converts to a function pointer. */
    *(void **)&lx.new_ctxt = dlsym(lib, "xmlNewParserCtxt");
    *(void **)&lx.read_memory = dlsym(lib, "xmlCtxtReadMemory");
    *(void **)&lx.free_ctxt = dlsym(lib, "xmlFreeParserCtxt");
    *(void **)&lx.free_doc = dlsym(lib, "xmlFreeDoc");
    *(void **)&lx.stop = dlsym(lib, "xmlStopParser");
    *(void **)&lx.last_error = dlsym(lib, "xmlCtxtGetLastError");
    /* lib stays open: lxml.etree is never unloaded, and the pointers must stay valid. */
    return lx.new_ctxt && lx.read_memory && lx.free_ctxt && lx.free_doc && lx.stop &&
           lx.last_error;
#else
    (void)etree;
    return 0;
#endif
}

/* -- the Plan type ------------------------------------------------------------------------- */

static void
clear_fields(Field *fields, Py_ssize_t n)
{
    if (fields == NULL) {
        return;
    }
    for (Py_ssize_t i = 0; i < n; i++) {
        PyMem_Free(fields[i].tag);
        Py_XDECREF(fields[i].attr);
        Py_XDECREF(fields[i].members);
    }
    PyMem_Free(fields);
}

static int
Plan_clear(Plan *self)
{
    if (self->specs != NULL) {
        for (Py_ssize_t i = 0; i < self->n_specs; i++) {
            Spec *s = &self->specs[i];
            Py_XDECREF(s->cls);
            Py_XDECREF(s->defaults);
            Py_XDECREF(s->lists);
            clear_fields(s->fields, s->n_fields);
            clear_fields(s->attributes, s->n_attributes);
        }
        PyMem_Free(self->specs);
        self->specs = NULL;
        self->n_specs = 0;
    }
    Py_CLEAR(self->date_fromisoformat);
    Py_CLEAR(self->datetime_fromisoformat);
    Py_CLEAR(self->decimal);
    return 0;
}

static void
Plan_dealloc(Plan *self)
{
    Plan_clear(self);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

/* One (tag, attr, how, kind, is_list, members, sub) tuple into a Field. */
static int
read_field(PyObject *item, Field *f, Py_ssize_t n_specs)
{
    const char *tag;
    PyObject *attr, *members;
    int how, kind, is_list;
    Py_ssize_t sub;
    if (!PyArg_ParseTuple(item, "sUiipOn;a field is (tag, attr, how, kind, is_list, members, sub)",
                          &tag, &attr, &how, &kind, &is_list, &members, &sub)) {
        return -1;
    }
    if (how < READ_TEXT || how > READ_RECORD || kind < K_TEXT || kind > K_LAST) {
        PyErr_Format(PyExc_ValueError, "field %s: unknown how %d or kind %d", tag, how, kind);
        return -1;
    }
    if (how == READ_RECORD && (sub < 0 || sub >= n_specs)) {
        PyErr_Format(PyExc_ValueError, "field %s: no spec number %zd", tag, sub);
        return -1;
    }
    if (members != Py_None && !PyDict_Check(members)) {
        PyErr_Format(PyExc_TypeError, "field %s: members must be a dict or None", tag);
        return -1;
    }
    size_t len = strlen(tag) + 1;
    f->tag = PyMem_Malloc(len);
    if (f->tag == NULL) {
        PyErr_NoMemory();
        return -1;
    }
    memcpy(f->tag, tag, len);
    Py_INCREF(attr);
    f->attr = attr;
    f->how = how;
    f->kind = kind;
    f->is_list = is_list;
    f->members = members == Py_None ? NULL : Py_NewRef(members);
    f->sub = sub;
    return 0;
}

static int
read_fields(PyObject *seq, Field **out, Py_ssize_t *n_out, Py_ssize_t n_specs)
{
    if (!PyTuple_Check(seq)) {
        PyErr_SetString(PyExc_TypeError, "fields and attributes must be tuples");
        return -1;
    }
    Py_ssize_t n = PyTuple_GET_SIZE(seq);
    *out = PyMem_Calloc(n ? (size_t)n : 1, sizeof(Field));
    if (*out == NULL) {
        PyErr_NoMemory();
        return -1;
    }
    *n_out = n;
    for (Py_ssize_t i = 0; i < n; i++) {
        if (read_field(PyTuple_GET_ITEM(seq, i), &(*out)[i], n_specs) < 0) {
            return -1;
        }
    }
    return 0;
}

static PyObject *
Plan_new(PyTypeObject *type, PyObject *args, PyObject *kwds)
{
    static char *kwlist[] = {"specs", "date_fromisoformat", "datetime_fromisoformat", "decimal",
                             NULL};
    PyObject *specs, *date_fromiso, *datetime_fromiso, *decimal;
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "O!OOO:Plan", kwlist, &PyTuple_Type, &specs,
                                     &date_fromiso, &datetime_fromiso, &decimal)) {
        return NULL;
    }
    Plan *self = (Plan *)type->tp_alloc(type, 0);
    if (self == NULL) {
        return NULL;
    }
    self->date_fromisoformat = Py_NewRef(date_fromiso);
    self->datetime_fromisoformat = Py_NewRef(datetime_fromiso);
    self->decimal = Py_NewRef(decimal);
    /* Date-times of the usual form are made here only when they would be made by
     * datetime.fromisoformat anyway (a test may pass another converter). */
    PyObject *fromiso = PyObject_GetAttrString((PyObject *)PyDateTimeAPI->DateTimeType,
                                               "fromisoformat");
    self->iso_datetime = fromiso == NULL ? -1 : PyObject_RichCompareBool(fromiso, datetime_fromiso,
                                                                          Py_EQ);
    Py_XDECREF(fromiso);
    if (self->iso_datetime < 0) {
        Py_DECREF(self);
        return NULL;
    }
    Py_ssize_t n = PyTuple_GET_SIZE(specs);
    self->specs = PyMem_Calloc(n ? (size_t)n : 1, sizeof(Spec));
    if (self->specs == NULL) {
        Py_DECREF(self);
        return PyErr_NoMemory();
    }
    self->n_specs = n;
    for (Py_ssize_t i = 0; i < n; i++) {
        Spec *s = &self->specs[i];
        PyObject *cls, *defaults, *lists, *fields, *attributes;
        if (!PyArg_ParseTuple(PyTuple_GET_ITEM(specs, i),
                              "O!O!O!OO;a spec is (cls, defaults, lists, fields, attributes)",
                              &PyType_Type, &cls, &PyDict_Type, &defaults, &PyTuple_Type, &lists,
                              &fields, &attributes)) {
            Py_DECREF(self);
            return NULL;
        }
        s->cls = (PyTypeObject *)Py_NewRef(cls);
        s->defaults = Py_NewRef(defaults);
        s->lists = Py_NewRef(lists);
        if (read_fields(fields, &s->fields, &s->n_fields, n) < 0 ||
            read_fields(attributes, &s->attributes, &s->n_attributes, n) < 0) {
            Py_DECREF(self);
            return NULL;
        }
    }
    return (PyObject *)self;
}

PyDoc_STRVAR(Plan_build_doc,
             "build(spec, element, /)\n--\n\n"
             "Build the model of spec number ``spec`` from an lxml element, or raise Fallback.");

static PyObject *
Plan_build(Plan *self, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 2) {
        PyErr_SetString(PyExc_TypeError, "build() takes a spec number and an element");
        return NULL;
    }
    Py_ssize_t index = PyLong_AsSsize_t(args[0]);
    if (index == -1 && PyErr_Occurred()) {
        return NULL;
    }
    if (index < 0 || index >= self->n_specs) {
        PyErr_Format(PyExc_IndexError, "no spec number %zd", index);
        return NULL;
    }
    if (!PyObject_TypeCheck(args[1], ElementType)) {
        PyErr_Format(PyExc_TypeError, "build() needs an lxml element, not %.100s",
                     Py_TYPE(args[1])->tp_name);
        return NULL;
    }
    xmlNode *node = ((LxmlElement *)args[1])->c_node;
    if (node == NULL || node->type != XML_ELEMENT_NODE) {
        return fallback(); /* a comment, processing instruction or entity */
    }
    return build(self, &self->specs[index], node, 0);
}

static PyMethodDef Plan_methods[] = {
    {"build", (PyCFunction)(void (*)(void))Plan_build, METH_FASTCALL, Plan_build_doc},
    {"parse", (PyCFunction)(void (*)(void))Plan_parse, METH_FASTCALL, Plan_parse_doc},
    {NULL, NULL, 0, NULL},
};

PyDoc_STRVAR(Plan_doc,
             "Plan(specs, date_fromisoformat, datetime_fromisoformat, decimal)\n--\n\n"
             "The model specs, compiled for the C walk (built by qbprocore.qbxml._parse).");

static PyTypeObject PlanType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "qbprocore.qbxml._speedups.Plan",
    .tp_basicsize = sizeof(Plan),
    .tp_dealloc = (destructor)Plan_dealloc,
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = Plan_doc,
    .tp_methods = Plan_methods,
    .tp_new = Plan_new,
};

/* -- the long text of a SOAP body --------------------------------------------------------- */

/*
 * A receiveResponseXML body is one long run of escaped qbXML. libxml2 reads every entity
 * reference in it on its own, which makes that one text node cost more than parsing the whole
 * qbXML document it holds. char_data() finds the longest run of bytes between a '>' and the
 * next '<' and decodes it as XML character data in one pass; qbprocore.qbwc._soap has lxml
 * parse the rest of the envelope twice, with a different marker in its place each time, and
 * checks that each marker is the whole text of one element, the same one (so the run really
 * was that element's character data; see _parse_body there).
 *
 * It decodes only what it can decode exactly as libxml2 does: UTF-8 text, the five
 * predefined entities, character references to XML characters, and line ends (CR LF and CR
 * read as LF). Anything else (another entity, "]]>", a character XML forbids, bytes that are
 * not UTF-8) declines with None, and the caller lets lxml parse the whole body, which gives
 * the same result or the same error.
 */

/* Char of XML 1.0, for a code point written as a character reference. */
static int
xml_char(unsigned long c)
{
    return c == 0x9 || c == 0xA || c == 0xD || (c >= 0x20 && c <= 0xD7FF) ||
           (c >= 0xE000 && c <= 0xFFFD) || (c >= 0x10000 && c <= 0x10FFFF);
}

/* Write code point c (an XML Char) as UTF-8; returns the number of bytes written. */
static Py_ssize_t
put_utf8(unsigned long c, unsigned char *out)
{
    if (c < 0x80) {
        out[0] = (unsigned char)c;
        return 1;
    }
    if (c < 0x800) {
        out[0] = (unsigned char)(0xC0 | (c >> 6));
        out[1] = (unsigned char)(0x80 | (c & 0x3F));
        return 2;
    }
    if (c < 0x10000) {
        out[0] = (unsigned char)(0xE0 | (c >> 12));
        out[1] = (unsigned char)(0x80 | ((c >> 6) & 0x3F));
        out[2] = (unsigned char)(0x80 | (c & 0x3F));
        return 3;
    }
    out[0] = (unsigned char)(0xF0 | (c >> 18));
    out[1] = (unsigned char)(0x80 | ((c >> 12) & 0x3F));
    out[2] = (unsigned char)(0x80 | ((c >> 6) & 0x3F));
    out[3] = (unsigned char)(0x80 | (c & 0x3F));
    return 4;
}

/*
 * A character reference: p points after "&#" and holds left bytes. Returns the number of
 * bytes read up to and including ';' with the code point in *c, or -1 if it is not one.
 */
static Py_ssize_t
char_ref(const unsigned char *p, Py_ssize_t left, unsigned long *c)
{
    Py_ssize_t k = 0;
    unsigned long base = 10, v = 0;
    if (left > 0 && p[0] == 'x') { /* "&#X" is not XML */
        base = 16;
        k = 1;
    }
    Py_ssize_t first = k;
    for (; k < left && p[k] != ';'; k++) {
        unsigned char d = p[k];
        unsigned long digit;
        if (d >= '0' && d <= '9') {
            digit = d - '0';
        }
        else if (base == 16 && d >= 'a' && d <= 'f') {
            digit = d - 'a' + 10;
        }
        else if (base == 16 && d >= 'A' && d <= 'F') {
            digit = d - 'A' + 10;
        }
        else {
            return -1;
        }
        v = v * base + digit;
        if (v > 0x10FFFF) {
            return -1;
        }
    }
    if (k == first || k >= left || !xml_char(v)) {
        return -1;
    }
    *c = v;
    return k + 1;
}

#if (defined(__GNUC__) || defined(__clang__)) && defined(__BYTE_ORDER__) && \
    __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#include <stdint.h>
#define EIGHT_AT_ONCE 1
/* The bytes of x unescape() must look at (under 0x20, over 0x7F, '&', ']'), one high bit
 * each. Bytes after the first such byte may be flagged wrongly; the first one never is. */
static inline uint64_t
stops_in(uint64_t x)
{
    const uint64_t ones = 0x0101010101010101u, highs = 0x8080808080808080u;
    uint64_t amp = x ^ (ones * '&'), bracket = x ^ (ones * ']');
    uint64_t control = (x - ones * 0x20) & ~x;
    return (control | x | ((amp - ones) & ~amp) | ((bracket - ones) & ~bracket)) & highs;
}
#endif

/*
 * Decode the character data in[0..n) into out, which has room for n bytes (nothing decoded
 * is longer than its source). Returns the length decoded, or -1 to decline; *ascii says
 * whether every byte written is ASCII (the decoded bytes are then the text as they are).
 */
static Py_ssize_t
unescape(const unsigned char *in, Py_ssize_t n, unsigned char *out, int *ascii)
{
    static const struct {
        const char *name;
        Py_ssize_t len;
        unsigned char c;
    } predefined[] = {
        {"lt;", 3, '<'}, {"gt;", 3, '>'}, {"amp;", 4, '&'}, {"quot;", 5, '"'}, {"apos;", 5, '\''},
    };
    Py_ssize_t i = 0, o = 0;
    int high = 0; /* a byte over 0x7F was written */
    while (i < n) {
#ifdef EIGHT_AT_ONCE
        /* Copy eight plain bytes at a time. out has room: nothing decoded is longer than its
         * source, so o <= i, and i + 8 <= n. */
        while (i + 8 <= n) {
            uint64_t x;
            memcpy(&x, in + i, 8);
            uint64_t stops = stops_in(x);
            memcpy(out + o, &x, 8);
            if (stops) {
                Py_ssize_t plain = __builtin_ctzll(stops) / 8;
                o += plain;
                i += plain;
                break;
            }
            o += 8;
            i += 8;
        }
        if (i >= n) {
            break;
        }
#endif
        unsigned char c = in[i];
        if (c >= 0x20 && c < 0x80 && c != '&' && c != ']') {
            out[o++] = c; /* the usual byte: printable ASCII */
            i++;
        }
        else if (c == '&' && n - i >= 4 && in[i + 2] == 't' && in[i + 3] == ';' &&
                 (in[i + 1] == 'l' || in[i + 1] == 'g')) {
            out[o++] = in[i + 1] == 'l' ? '<' : '>'; /* most of an escaped document's markup */
            i += 4;
        }
        else if (c == '&') {
            const unsigned char *p = in + i + 1;
            Py_ssize_t left = n - i - 1, used = -1;
            for (size_t e = 0; e < sizeof predefined / sizeof predefined[0]; e++) {
                if (left >= predefined[e].len && !memcmp(p, predefined[e].name, predefined[e].len)) {
                    out[o++] = predefined[e].c;
                    used = predefined[e].len;
                    break;
                }
            }
            if (used < 0 && left > 0 && p[0] == '#') {
                unsigned long code;
                Py_ssize_t ref = char_ref(p + 1, left - 1, &code);
                if (ref < 0) {
                    return -1;
                }
                high |= code >= 0x80;
                o += put_utf8(code, out + o);
                used = 1 + ref;
            }
            if (used < 0) {
                return -1; /* another entity: not defined without a DTD, an error for lxml */
            }
            i += 1 + used;
        }
        else if (c == ']') {
            if (i + 2 < n && in[i + 1] == ']' && in[i + 2] == '>') {
                return -1; /* "]]>" may not stand in character data */
            }
            out[o++] = c;
            i++;
        }
        else if (c >= 0x80) {
            if (c == 0xEF && i + 2 < n && in[i + 1] == 0xBF &&
                (in[i + 2] == 0xBE || in[i + 2] == 0xBF)) {
                return -1; /* U+FFFE or U+FFFF: not XML characters */
            }
            high = 1; /* whether the bytes are UTF-8 at all is for the decoder to say */
            out[o++] = c;
            i++;
        }
        else if (c == '\t' || c == '\n') {
            out[o++] = c;
            i++;
        }
        else if (c == '\r') { /* XML reads CR LF and a lone CR as LF */
            out[o++] = '\n';
            i += (i + 1 < n && in[i + 1] == '\n') ? 2 : 1;
        }
        else {
            return -1; /* a control character XML forbids */
        }
    }
    *ascii = !high;
    return o;
}

PyDoc_STRVAR(char_data_doc,
             "char_data(data, minimum, /)\n--\n\n"
             "The longest run of bytes between a '>' and the next '<' in data, if it is at\n"
             "least minimum bytes long, decoded as XML character data: (start, end, text).\n"
             "None when there is no such run or it holds anything but UTF-8 text, the five\n"
             "predefined entities and character references to XML characters.");

static PyObject *
char_data(PyObject *Py_UNUSED(module), PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 2) {
        PyErr_SetString(PyExc_TypeError, "char_data() takes the data and a minimum length");
        return NULL;
    }
    if (!PyBytes_Check(args[0])) {
        PyErr_Format(PyExc_TypeError, "char_data() needs bytes, not %.100s",
                     Py_TYPE(args[0])->tp_name);
        return NULL;
    }
    Py_ssize_t minimum = PyLong_AsSsize_t(args[1]);
    if (minimum == -1 && PyErr_Occurred()) {
        return NULL;
    }
    const unsigned char *data = (const unsigned char *)PyBytes_AS_STRING(args[0]);
    const unsigned char *end = data + PyBytes_GET_SIZE(args[0]);
    Py_ssize_t start = 0, stop = 0, n = -1;
    unsigned char *buffer = NULL;
    int ascii = 0;

    Py_BEGIN_ALLOW_THREADS /* the bytes object cannot change; the scan needs no Python */
    const unsigned char *p = data;
    while (p < end) {
        const unsigned char *gt = memchr(p, '>', (size_t)(end - p));
        if (gt == NULL) {
            break;
        }
        const unsigned char *lt = memchr(gt + 1, '<', (size_t)(end - gt - 1));
        if (lt == NULL) {
            break;
        }
        if (lt - gt - 1 > stop - start) {
            start = gt + 1 - data;
            stop = lt - data;
        }
        p = lt + 1;
    }
    if (stop - start >= minimum && stop > start) {
        buffer = PyMem_RawMalloc((size_t)(stop - start));
        if (buffer != NULL) {
            n = unescape(data + start, stop - start, buffer, &ascii);
        }
    }
    Py_END_ALLOW_THREADS

    if (stop - start < minimum || stop == start) {
        Py_RETURN_NONE;
    }
    if (buffer == NULL) {
        return PyErr_NoMemory();
    }
    PyObject *text = NULL;
    if (n >= 0 && ascii) { /* the usual text: no decoding needed, only a copy */
        text = PyUnicode_New(n, 127);
        if (text != NULL) {
            memcpy(PyUnicode_1BYTE_DATA(text), buffer, (size_t)n);
        }
    }
    else if (n >= 0) {
        text = PyUnicode_DecodeUTF8((const char *)buffer, n, "strict");
    }
    PyMem_RawFree(buffer);
    if (text == NULL) {
        if (n >= 0 && !PyErr_ExceptionMatches(PyExc_UnicodeDecodeError)) {
            return NULL;
        }
        PyErr_Clear(); /* not UTF-8: lxml gives the error */
        Py_RETURN_NONE;
    }
    return Py_BuildValue("nnN", start, stop, text);
}

/* -- a SOAP call, read through libxml2's SAX interface ------------------------------------- */

/*
 * soap_call() serves the SOAP codec of qbprocore.qbwc too: it reads a Web Connector request
 * envelope of the usual shape,
 *
 *     <Envelope><Body><operation><parameter>text</parameter>...</operation></Body></Envelope>
 *
 * with Envelope and Body in the SOAP 1.1 namespace (any prefix) and the operation and its
 * parameters in any, and gives the operation's local name, its parameters' texts by local
 * name (the first of each; "" for xsi:nil="true" or "1") and the declared encoding. It uses
 * the parser and options of the codec's lxml parser, and declines (None) anything else: any
 * parser error or warning, a DOCTYPE or entity, a comment or processing instruction, a SOAP
 * Header or any other element beside the Body or the operation, an element inside a
 * parameter, a text over SOAP_MAX_TEXT bytes. The codec then
 * reads the body with lxml, which gives the same call or the fault it deserves.
 */

#define SOAP_OPTIONS (SAX_OPTIONS | XML_PARSE_HUGE)
#define SOAP_MAX_TEXT 1000000

static const char SOAP_ENV[] = "http://schemas.xmlsoap.org/soap/envelope/";
static const char XSI[] = "http://www.w3.org/2001/XMLSchema-instance";

typedef struct {
    Road road;         /* first: the callbacks that only decline see a Road */
    int level;         /* elements open */
    int body_seen;
    PyObject *name;    /* the operation's local name, once read */
    PyObject *values;  /* parameter -> text */
    PyObject *key;     /* the parameter open, or NULL (none open, or one read already) */
    int nil;
    char *text;
    size_t len, cap;
} Soap;

static Soap *
soap_awake(void *ctx)
{
    Soap *s = (Soap *)((xmlParserCtxtPtr)ctx)->_private;
    return s->road.stop ? NULL : s;
}

/* Making a str failed: text libxml2 gives is UTF-8, but should it not be, lxml reads the
 * body; anything else (out of memory) is raised. */
static void
soap_unmade(Soap *s)
{
    if (PyErr_ExceptionMatches(PyExc_UnicodeDecodeError)) {
        PyErr_Clear();
        declined(&s->road);
        return;
    }
    raised(&s->road);
}

static int
is(const xmlChar *a, const char *b)
{
    return a != NULL && !strcmp((const char *)a, b);
}

static void
soap_start(void *ctx, const xmlChar *localname, const xmlChar *prefix, const xmlChar *uri,
           int nb_namespaces, const xmlChar **namespaces, int nb_attributes, int nb_defaulted,
           const xmlChar **attributes)
{
    (void)prefix;
    (void)nb_namespaces;
    (void)namespaces;
    (void)nb_defaulted;
    Soap *s = soap_awake(ctx);
    if (s == NULL) {
        return;
    }
    int nil = 0;
    for (int i = 0; i < nb_attributes; i++) {
        const xmlChar **a = attributes + 5 * i; /* localname, prefix, URI, value, end */
        size_t n = (size_t)(a[4] - a[3]); /* references in it are read already */
        if (is(a[2], XSI) && is(a[0], "nil")) {
            nil = (n == 4 && !memcmp(a[3], "true", 4)) || (n == 1 && a[3][0] == '1');
        }
    }
    switch (s->level++) {
    case 0:
        if (!is(uri, SOAP_ENV) || !is(localname, "Envelope")) {
            declined(road_of(ctx));
        }
        return;
    case 1:
        if (s->body_seen || !is(uri, SOAP_ENV) || !is(localname, "Body")) {
            declined(road_of(ctx));
        }
        s->body_seen = 1;
        return;
    case 2:
        if (s->name != NULL) {
            declined(road_of(ctx));
            return;
        }
        s->name = PyUnicode_FromString((const char *)localname);
        if (s->name == NULL) {
            soap_unmade(s);
        }
        return;
    case 3: {
        PyObject *key = PyUnicode_FromString((const char *)localname);
        if (key == NULL) {
            soap_unmade(s);
            return;
        }
        int known = PyDict_Contains(s->values, key);
        if (known < 0) {
            Py_DECREF(key);
            raised(&s->road);
            return;
        }
        s->key = known ? NULL : key; /* the first of each name counts */
        if (known) {
            Py_DECREF(key);
        }
        s->nil = nil;
        s->len = 0;
        return;
    }
    default:
        declined(road_of(ctx)); /* an element inside a parameter */
    }
}

static void
soap_end(void *ctx, const xmlChar *localname, const xmlChar *prefix, const xmlChar *uri)
{
    (void)localname;
    (void)prefix;
    (void)uri;
    Soap *s = soap_awake(ctx);
    if (s == NULL) {
        return;
    }
    if (--s->level != 3 || s->key == NULL) {
        return;
    }
    PyObject *key = s->key;
    s->key = NULL;
    PyObject *value = s->nil ? PyUnicode_FromStringAndSize(NULL, 0)
                             : PyUnicode_DecodeUTF8(s->text, (Py_ssize_t)s->len, "strict");
    if (value == NULL) {
        Py_DECREF(key);
        soap_unmade(s);
        return;
    }
    int rc = PyDict_SetItem(s->values, key, value);
    Py_DECREF(key);
    Py_DECREF(value);
    if (rc < 0) {
        raised(&s->road);
    }
}

static void
soap_characters(void *ctx, const xmlChar *ch, int len)
{
    Soap *s = soap_awake(ctx);
    if (s == NULL || s->level != 4 || s->key == NULL) {
        return; /* text between elements, or in a parameter read already: not read */
    }
    if (s->len + (size_t)len > SOAP_MAX_TEXT) {
        declined(road_of(ctx));
        return;
    }
    if (s->len + (size_t)len > s->cap) {
        size_t cap = s->cap ? s->cap : 256;
        while (cap < s->len + (size_t)len) {
            cap *= 2;
        }
        char *text = PyMem_Realloc(s->text, cap);
        if (text == NULL) {
            PyErr_NoMemory();
            raised(&s->road);
            return;
        }
        s->text = text;
        s->cap = cap;
    }
    memcpy(s->text + s->len, ch, (size_t)len);
    s->len += (size_t)len;
}

static void
soap_pi(void *ctx, const xmlChar *target, const xmlChar *data)
{
    (void)target;
    (void)data;
    declined(road_of(ctx));
}

static void
soap_comment(void *ctx, const xmlChar *value)
{
    (void)value;
    declined(road_of(ctx));
}

static xmlSAXHandler soap_handler = {
    .internalSubset = on_subset,
    .getEntity = on_get_entity,
    .reference = on_reference,
    .characters = soap_characters,
    .ignorableWhitespace = soap_characters,
    .processingInstruction = soap_pi,
    .comment = soap_comment,
    .cdataBlock = on_cdata,
    .externalSubset = on_subset,
    .initialized = XML_SAX2_MAGIC,
    .startElementNs = soap_start,
    .endElementNs = soap_end,
    .serror = on_error,
};

PyDoc_STRVAR(soap_call_doc,
             "soap_call(data, /)\n--\n\n"
             "Read a SOAP request envelope of the usual shape through libxml2's SAX interface:\n"
             "(operation's local name, {parameter: text}, declared encoding or None), or None\n"
             "for anything else.");

static PyObject *
soap_call(PyObject *Py_UNUSED(module), PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 1 || !PyBytes_Check(args[0])) {
        PyErr_SetString(PyExc_TypeError, "soap_call() takes one bytes argument");
        return NULL;
    }
    Py_ssize_t size = PyBytes_GET_SIZE(args[0]);
    if (!have_sax || size > INT_MAX) {
        Py_RETURN_NONE;
    }
    Soap s;
    memset(&s, 0, sizeof s);
    s.values = PyDict_New();
    if (s.values == NULL) {
        return NULL;
    }
    PyObject *encoding = NULL;
    int well_formed = road_read(&s.road, &soap_handler, args[0], SOAP_OPTIONS, &encoding);
    PyMem_Free(s.text);
    Py_XDECREF(s.key);
    PyObject *result = NULL;
    if (well_formed < 0 || s.road.stop == 2) {
        /* the error is set */
    }
    else if (s.road.stop || !well_formed || s.name == NULL || s.level != 0) {
        result = Py_NewRef(Py_None);
    }
    else {
        result = PyTuple_Pack(3, s.name, s.values, encoding ? encoding : Py_None);
    }
    Py_XDECREF(encoding);
    Py_XDECREF(s.name);
    Py_DECREF(s.values);
    return result;
}

static PyMethodDef module_methods[] = {
    {"char_data", (PyCFunction)(void (*)(void))char_data, METH_FASTCALL, char_data_doc},
    {"soap_call", (PyCFunction)(void (*)(void))soap_call, METH_FASTCALL, soap_call_doc},
    {NULL, NULL, 0, NULL},
};

/* -- the module ---------------------------------------------------------------------------- */

PyDoc_STRVAR(module_doc, "The typed tree walk of qbprocore.qbxml, and the long text of a SOAP body, in C.");

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT,
    .m_name = "qbprocore.qbxml._speedups",
    .m_doc = module_doc,
    .m_size = -1,
    .m_methods = module_methods,
};

PyMODINIT_FUNC
PyInit__speedups(void)
{
    if (PyType_Ready(&PlanType) < 0) {
        return NULL;
    }
    PyDateTime_IMPORT;
    if (PyDateTimeAPI == NULL) {
        return NULL;
    }
    PyObject *m = PyModule_Create(&module);
    if (m == NULL) {
        return NULL;
    }
    PyObject *etree = PyImport_ImportModule("lxml.etree");
    if (etree == NULL) {
        goto error;
    }
    ElementType = (PyTypeObject *)PyObject_GetAttrString(etree, "_Element");
    have_sax = find_libxml2(etree);
    Py_DECREF(etree);
    if (ElementType == NULL) {
        goto error;
    }
    if (!PyType_Check(ElementType) ||
        ElementType->tp_basicsize < (Py_ssize_t)sizeof(LxmlElement)) {
        PyErr_SetString(PyExc_ImportError, "lxml.etree._Element has an unexpected layout");
        goto error;
    }
    str_dict = PyUnicode_InternFromString("__dict__");
    Fallback = PyErr_NewExceptionWithDoc(
        "qbprocore.qbxml._speedups.Fallback",
        "The C walk leaves this element to the Python builder.", NULL, NULL);
    if (str_dict == NULL || Fallback == NULL) {
        goto error;
    }
    if (PyModule_AddObject(m, "Fallback", Py_NewRef(Fallback)) < 0) {
        Py_DECREF(Fallback);
        goto error;
    }
    if (PyModule_AddObject(m, "HAVE_SAX", PyBool_FromLong(have_sax)) < 0) {
        goto error;
    }
    if (PyModule_AddObject(m, "Plan", Py_NewRef((PyObject *)&PlanType)) < 0) {
        Py_DECREF(&PlanType);
        goto error;
    }
    return m;
error:
    Py_DECREF(m);
    return NULL;
}
