import { describe, expect, it } from 'vitest';
import { hasBareLineBreak, headEnd, MAX_HEAD_BYTES, parseRequestHead } from '../../src/http/requestHead.js';

const bytes = (text: string): Buffer => Buffer.from(text, 'latin1');

describe('headEnd', () => {
  it('is -1 until the blank line has arrived', () => {
    expect(headEnd(bytes(''))).toBe(-1);
    expect(headEnd(bytes('GET /events HTTP/1.1\r\nHost: x'))).toBe(-1);
    expect(headEnd(bytes('GET /events HTTP/1.1\r\nHost: x\r\n'))).toBe(-1);
    expect(headEnd(bytes('GET /events HTTP/1.1\r\nHost: x\r\n\r'))).toBe(-1);
    // Bare LFs never end a head here (the connection is handed to node:http).
    expect(headEnd(bytes('GET /events HTTP/1.1\nHost: x\n\n'))).toBe(-1);
  });

  it('is the index just past the blank line, whatever follows', () => {
    const head = 'GET /events HTTP/1.1\r\nHost: x\r\n\r\n';
    expect(headEnd(bytes(head))).toBe(head.length);
    expect(headEnd(bytes(`${head}GET /other HTTP/1.1\r\nHost: x\r\n\r\n`))).toBe(head.length);
    expect(headEnd(bytes(`${head}body bytes`))).toBe(head.length);
  });

  it('limits heads to 16 KiB, as node:http does by default', () => {
    expect(MAX_HEAD_BYTES).toBe(16 * 1024);
  });
});

describe('hasBareLineBreak', () => {
  it('is false for CRLF line breaks, and for a CR that is the last byte so far (its LF may follow)', () => {
    expect(hasBareLineBreak(bytes(''))).toBe(false);
    expect(hasBareLineBreak(bytes('GET /events HTTP/1.1\r\nHost: x\r\n\r\n'))).toBe(false);
    expect(hasBareLineBreak(bytes('GET /events HTTP/1.1\r\nHost: x\r'))).toBe(false);
    expect(hasBareLineBreak(bytes('GET /events HTTP/1.1\r\nHost: x\r\n\r'))).toBe(false);
  });

  it.each([
    ['a LF first', '\nGET / HTTP/1.1'],
    ['LF line endings', 'GET /events HTTP/1.1\nHost: x\n\n'],
    ['one LF among CRLFs', 'GET /events HTTP/1.1\r\nHost: x\n'],
    ['a blank line of LF after CRLF', 'GET /events HTTP/1.1\r\nHost: x\r\n\n'],
    ['a CR followed by another byte', 'GET /events HTTP/1.1\rHost: x'],
    ['CR CR', 'GET /events HTTP/1.1\r\r'],
  ])('is true for %s', (_what, text) => {
    expect(hasBareLineBreak(bytes(text))).toBe(true);
  });
});

describe('parseRequestHead', () => {
  it('reads the method, the target as sent and every header by lower-case name', () => {
    const head = parseRequestHead(
      'GET /events?user=ada&room=a%20b HTTP/1.1\r\nHost: example.com:8080\r\nAccept: text/event-stream\r\nLast-Event-ID: ab-12\r\nX-Empty:',
    );
    expect(head).toEqual({
      method: 'GET',
      url: '/events?user=ada&room=a%20b',
      headers: { host: 'example.com:8080', accept: 'text/event-stream', 'last-event-id': 'ab-12', 'x-empty': '' },
    });
    expect(Object.keys(head?.headers ?? {})).toEqual(['host', 'accept', 'last-event-id', 'x-empty']);
  });

  it('trims optional whitespace around values and keeps inner tabs and spaces', () => {
    expect(parseRequestHead('GET / HTTP/1.1\r\nX-A: \t a \t b \t\r\nX-B:c')?.headers).toEqual({ 'x-a': 'a \t b', 'x-b': 'c' });
  });

  it("joins repeated headers with ', ', and cookies with '; ', as Node does", () => {
    const head = parseRequestHead(
      'GET / HTTP/1.1\r\nAccept: a\r\nCookie: k=1\r\naccept: b\r\nCOOKIE: j=2\r\nACCEPT: c\r\nHost: x\r\ncookie: i=3',
    );
    expect(head?.headers).toEqual({ accept: 'a, b, c', cookie: 'k=1; j=2; i=3', host: 'x' });
  });

  it('takes any token method and a head without headers (the server decides what it serves)', () => {
    expect(parseRequestHead('POST /events HTTP/1.1\r\nHost: x')).toEqual({ method: 'POST', url: '/events', headers: { host: 'x' } });
    expect(parseRequestHead('GET / HTTP/1.1')).toEqual({ method: 'GET', url: '/', headers: {} });
  });

  it('keeps header names that look like object properties as plain entries', () => {
    const head = parseRequestHead('GET / HTTP/1.1\r\n__proto__: x\r\nConstructor: y\r\nhasOwnProperty: z');
    expect(Object.entries(head?.headers ?? {})).toEqual([
      ['__proto__', 'x'],
      ['constructor', 'y'],
      ['hasownproperty', 'z'],
    ]);
  });

  it.each([
    ['bare LF line endings', 'GET /events HTTP/1.1\nHost: x'],
    ['a bare LF inside a header value', 'GET /events HTTP/1.1\r\nHost: x\nX-A: y'],
    ['a bare CR inside a header value', 'GET /events HTTP/1.1\r\nHost: x\rX-A: y'],
    ['an obs-fold continuation line', 'GET /events HTTP/1.1\r\nHost: x\r\nX-A: a\r\n  folded'],
    ['an obs-fold with a tab', 'GET /events HTTP/1.1\r\nX-A: a\r\n\tfolded\r\nHost: x'],
    ['a NUL in a value', 'GET /events HTTP/1.1\r\nHost: x\r\nX-A: a\0b'],
    ['a control character in a value', 'GET /events HTTP/1.1\r\nHost: x\r\nX-A: a\x01b'],
    ['an escape character in a value', 'GET /events HTTP/1.1\r\nHost: x\r\nX-A: a\x1bb'],
    ['a DEL in a value', 'GET /events HTTP/1.1\r\nHost: x\r\nX-A: a\x7fb'],
    ['no version', 'GET /events\r\nHost: x'],
    ['HTTP/1.0', 'GET /events HTTP/1.0\r\nHost: x'],
    ['HTTP/2.0', 'GET /events HTTP/2.0\r\nHost: x'],
    ['a lower-case version', 'GET /events http/1.1\r\nHost: x'],
    ['a lower-case method', 'get /events HTTP/1.1\r\nHost: x'],
    ['a method that is not a token of capitals', 'G-T /events HTTP/1.1\r\nHost: x'],
    ['two spaces after the method', 'GET  /events HTTP/1.1\r\nHost: x'],
    ['a space in the target', 'GET /ev ents HTTP/1.1\r\nHost: x'],
    ['a trailing space after the version', 'GET /events HTTP/1.1 \r\nHost: x'],
    ['an absolute-form target', 'GET http://example.com/events HTTP/1.1\r\nHost: example.com'],
    ['an asterisk-form target', 'OPTIONS * HTTP/1.1\r\nHost: x'],
    ['an authority-form target', 'CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443'],
    ['a non-ASCII byte in the target', 'GET /\xe9vents HTTP/1.1\r\nHost: x'],
    ['a DEL in the target', 'GET /ev\x7fents HTTP/1.1\r\nHost: x'],
    ['a NUL in the target', 'GET /ev\0ents HTTP/1.1\r\nHost: x'],
    ['a header name with a space', 'GET /events HTTP/1.1\r\nHost: x\r\nBad Name: v'],
    ['whitespace before the colon', 'GET /events HTTP/1.1\r\nHost : x'],
    ['a header name with a separator', 'GET /events HTTP/1.1\r\nHost: x\r\nX(y): v'],
    ['a non-ASCII header name', 'GET /events HTTP/1.1\r\nHost: x\r\nX-\xe9: v'],
    ['an empty header name', 'GET /events HTTP/1.1\r\nHost: x\r\n: v'],
    ['a line without a colon', 'GET /events HTTP/1.1\r\nHost: x\r\nnocolon'],
    ['an empty line inside the head', 'GET /events HTTP/1.1\r\n\r\nHost: x'],
    ['an empty head', ''],
  ])('rejects %s', (_what, text) => {
    expect(parseRequestHead(text)).toBeUndefined();
  });

  it('accepts bytes above 0x7f in header values (obs-text, as llhttp does)', () => {
    expect(parseRequestHead('GET / HTTP/1.1\r\nX-Name: caf\xe9')?.headers['x-name']).toBe('caf\xe9');
  });
});
