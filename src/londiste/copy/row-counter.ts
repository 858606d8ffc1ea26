/**
 * Rows in a COPY stream that passes through as bytes, counted without decoding a value: for
 * progress and the rate limit while the stream runs (the exact count is the server's, at the
 * end). The chunks follow each other; a row may span several.
 */

export interface RowCounter {
  /** Rows that end in `chunk`. */
  count(chunk: Buffer): number;
}

/** COPY text: every row ends with a newline, and a newline in a value is written `\n`. */
export function textRowCounter(): RowCounter {
  return {
    count(chunk) {
      let rows = 0;
      let at = chunk.indexOf(10);
      while (at !== -1) {
        rows++;
        at = chunk.indexOf(10, at + 1);
      }
      return rows;
    },
  };
}

// COPY BINARY: an 11-byte signature and 4 bytes of flags, an int32 length of an extension
// area and that area; then per row an int16 field count (-1 ends the data) and per field an
// int32 length (-1 = NULL) and that many bytes.
const signatureAndFlags = 15;

/** COPY BINARY: walks the row and field lengths, skipping the values. */
export function binaryRowCounter(): RowCounter {
  // What the next bytes are, and how many of them are still to skip or read.
  let state:
    | 'header'
    | 'extensionLength'
    | 'extension'
    | 'fieldCount'
    | 'fieldLength'
    | 'value'
    | 'done' = 'header';
  let skip = signatureAndFlags;
  let fieldsLeft = 0;
  // A length field split between two chunks, gathered here.
  const partial = Buffer.alloc(4);
  let partialHave = 0;

  // Read an int of `size` bytes at `at`, maybe completing one begun in the last chunk.
  const readInt = (
    chunk: Buffer,
    at: number,
    size: 2 | 4,
  ): { value: number; next: number } | null => {
    if (partialHave === 0 && at + size <= chunk.length) {
      return {
        value: size === 2 ? chunk.readInt16BE(at) : chunk.readInt32BE(at),
        next: at + size,
      };
    }
    const take = Math.min(size - partialHave, chunk.length - at);
    chunk.copy(partial, partialHave, at, at + take);
    partialHave += take;
    if (partialHave < size) return null;
    partialHave = 0;
    return {
      value: size === 2 ? partial.readInt16BE(0) : partial.readInt32BE(0),
      next: at + take,
    };
  };

  return {
    count(chunk) {
      let rows = 0;
      let at = 0;
      while (at < chunk.length) {
        if (state === 'done') break;
        if (state === 'header' || state === 'extension' || state === 'value') {
          const take = Math.min(skip, chunk.length - at);
          at += take;
          skip -= take;
          if (skip > 0) break;
          if (state === 'header') {
            state = 'extensionLength';
          } else if (state === 'extension') {
            state = 'fieldCount';
          } else {
            fieldsLeft--;
            if (fieldsLeft === 0) rows++;
            state = fieldsLeft === 0 ? 'fieldCount' : 'fieldLength';
          }
          continue;
        }
        const read = readInt(chunk, at, state === 'fieldCount' ? 2 : 4);
        if (read === null) break;
        at = read.next;
        if (state === 'extensionLength') {
          state = 'extension';
          skip = read.value;
        } else if (state === 'fieldCount') {
          if (read.value === -1) {
            state = 'done';
          } else if (read.value === 0) {
            rows++;
          } else {
            fieldsLeft = read.value;
            state = 'fieldLength';
          }
        } else if (read.value <= 0) {
          fieldsLeft--;
          if (fieldsLeft === 0) {
            rows++;
            state = 'fieldCount';
          }
        } else {
          state = 'value';
          skip = read.value;
        }
      }
      return rows;
    },
  };
}
