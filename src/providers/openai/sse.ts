/** One Server-Sent Event as dispatched: its `event:` name (`message` when none was given) and its data. */
export interface SseEvent {
  event: string;
  data: string;
}

/** Largest event accepted (a partial image of 4K as base64 is ~20 MB; an endless line is a broken server). */
const MAX_EVENT_CHARS = 64 * 1024 * 1024;

/**
 * Reads an event stream as the HTML Server-Sent Events rules do: lines end with CRLF, LF or CR; `:` lines
 * are comments; `data:` lines of one event are joined with LF; a blank line dispatches the event (one
 * without data is skipped); one leading space after the colon is dropped; a last event without its blank
 * line is discarded. `id` and `retry` mean nothing to a one-shot request and are ignored.
 */
export async function* readSse(body: AsyncIterable<Uint8Array>): AsyncGenerator<SseEvent> {
  const decoder = new TextDecoder();
  let buffer = '';
  let event = '';
  let data: string[] = [];
  let size = 0;
  const line = (text: string): SseEvent | undefined => {
    if (text === '') {
      const out = data.length > 0 ? { event: event || 'message', data: data.join('\n') } : undefined;
      event = '';
      data = [];
      size = 0;
      return out;
    }
    if (text.startsWith(':')) return undefined;
    const colon = text.indexOf(':');
    const field = colon < 0 ? text : text.slice(0, colon);
    let value = colon < 0 ? '' : text.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    if (field === 'event') event = value;
    else if (field === 'data') {
      size += value.length;
      if (size > MAX_EVENT_CHARS) throw new Error(`an event larger than ${MAX_EVENT_CHARS} characters`);
      data.push(value);
    }
    return undefined;
  };
  // Where the scan for a line end resumes: a base64 line spans many chunks and is not rescanned.
  let scan = 0;
  for await (const chunk of body) {
    buffer += decoder.decode(chunk, { stream: true });
    let start = 0;
    let i = scan;
    for (; i < buffer.length; i++) {
      const c = buffer.charCodeAt(i);
      if (c !== 10 && c !== 13) continue;
      // A CR as the chunk's last character may be the first half of a CRLF: wait for the next chunk.
      if (c === 13 && i === buffer.length - 1) break;
      const out = line(buffer.slice(start, i));
      if (c === 13 && buffer.charCodeAt(i + 1) === 10) i++;
      start = i + 1;
      if (out) yield out;
    }
    buffer = buffer.slice(start);
    scan = i - start;
    if (buffer.length > MAX_EVENT_CHARS) throw new Error(`a line longer than ${MAX_EVENT_CHARS} characters`);
  }
  buffer += decoder.decode();
  // A trailing CR still ends a line; a last line without its end, and an event without its blank line, are dropped.
  if (buffer.endsWith('\r')) {
    const out = line(buffer.slice(0, -1));
    if (out) yield out;
  }
}
