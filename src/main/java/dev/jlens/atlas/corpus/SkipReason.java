package dev.jlens.atlas.corpus;

/**
 * Why a document (or a whole file) was rejected. With {@code skipBad} it is skipped and counted under
 * {@link #code()}; without, a {@link CorpusException} carrying the reason is thrown.
 */
public enum SkipReason {
    /** A malformed UTF-8 sequence (decoded strictly). */
    INVALID_UTF8("invalid_utf8"),
    /** The file contains a NUL byte. Always the whole file. */
    BINARY("binary"),
    /** The file starts with the gzip magic bytes but does not decompress (truncated, bad CRC). Always the whole file. */
    CORRUPT_GZIP("corrupt_gzip"),
    /** A line or whole file longer than {@link CorpusReader#MAX_DOCUMENT_BYTES}. */
    TOO_LARGE("too_large"),
    /** A JSONL line that is not exactly one JSON object. */
    NOT_JSON("not_json"),
    /** A JSON object that repeats a key (at any depth). */
    DUPLICATE_KEY("duplicate_key"),
    /** A JSON object without the text field. */
    MISSING_FIELD("missing_field"),
    /** A JSON object whose text field is not a string (null, number, object...). */
    NOT_STRING("not_string"),
    /** A JSON text field holding an unpaired surrogate escape such as {@code "\ud800"}: it cannot be UTF-8. */
    LONE_SURROGATE("lone_surrogate");

    private final String code;

    SkipReason(String code) {
        this.code = code;
    }

    /** The snake_case name used in counters and run metadata. */
    public String code() {
        return code;
    }

    /** Whether this reason rejects a whole file rather than one document. */
    public boolean wholeFile() {
        return this == BINARY || this == CORRUPT_GZIP;
    }
}
