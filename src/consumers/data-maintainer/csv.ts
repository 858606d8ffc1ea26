/**
 * data_maintainer's `fileread` CSV file, read as Python's csv.DictReader reads it with
 * upstream's `csv_delimiter` and `csv_quotechar`: the first record names the fields; a field in
 * quotes may hold the delimiter, newlines and a doubled quote; empty lines are skipped. Read as
 * a stream, so a file of any size costs one chunk of memory.
 */
import { createReadStream } from 'node:fs';
import { SkytoolsError } from '../../errors.js';

export interface CsvOptions {
  delimiter: string;
  quotechar: string;
}

/** The records of the file after its header, each as field name → text. */
export async function* readCsvRecords(
  file: string,
  options: CsvOptions,
): AsyncGenerator<Map<string, string>, void, undefined> {
  let header: string[] | null = null;
  let line = 1;
  for await (const { fields, startLine } of records(file, options)) {
    line = startLine;
    if (header === null) {
      header = fields;
      continue;
    }
    if (fields.length !== header.length) {
      throw new SkytoolsError(
        'BAD_INPUT',
        `${file}:${line}: ${fields.length} fields, but the header line names ${header.length} (${header.join(', ')})`,
        { file, line },
      );
    }
    yield new Map(header.map((name, i) => [name, fields[i] as string]));
  }
}

interface RawRecord {
  fields: string[];
  startLine: number;
}

async function* records(file: string, { delimiter, quotechar }: CsvOptions) {
  let fields: string[] = [];
  let field = '';
  let quoted = false; // inside quotes
  let afterQuote = false; // a quote just ended the quoted part (or is the first of a pair)
  let started = false; // the record has some character
  let line = 1;
  let startLine = 1;
  const endRecord = (): RawRecord | null => {
    if (!started) return null; // an empty line
    fields.push(field);
    const out = { fields, startLine };
    fields = [];
    field = '';
    started = false;
    return out;
  };
  const stream = createReadStream(file, { encoding: 'utf8' });
  try {
    for await (const chunk of stream as AsyncIterable<string>) {
      for (const ch of chunk) {
        if (!started) {
          startLine = line;
          if (ch === '\n' || ch === '\r') {
            if (ch === '\n') line++;
            continue;
          }
        }
        started = true;
        if (quoted) {
          if (ch === quotechar) {
            quoted = false;
            afterQuote = true;
          } else {
            if (ch === '\n') line++;
            field += ch;
          }
          continue;
        }
        if (ch === quotechar) {
          // A doubled quote inside a quoted field is one quote; one at a field's start opens it.
          if (afterQuote) field += quotechar;
          quoted = afterQuote || field === '';
          if (!quoted) field += ch;
          afterQuote = false;
          continue;
        }
        afterQuote = false;
        if (ch === delimiter) {
          fields.push(field);
          field = '';
        } else if (ch === '\n' || ch === '\r') {
          if (ch === '\n') line++;
          const record = endRecord();
          if (record) yield record;
        } else {
          field += ch;
        }
      }
    }
  } catch (error) {
    throw new SkytoolsError(
      'BAD_CONFIG',
      `cannot read fileread ${file}: ${(error as Error).message}`,
      { file },
      { cause: error },
    );
  }
  if (quoted) {
    throw new SkytoolsError(
      'BAD_INPUT',
      `${file}:${startLine}: a quoted field is not closed by the end of the file`,
      { file, line: startLine },
    );
  }
  const last = endRecord();
  if (last) yield last;
}
