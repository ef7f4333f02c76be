import { describe, expect, it, vi } from 'vitest';
import { LiveFeed, LiveHub, SseParser, backoffMs, type FeedOptions, type LiveState, type SseEvent } from './live';

describe('SseParser', () => {
  it('parses events cut anywhere, with comments, CRLF and multi-line data', () => {
    const parser = new SseParser();
    const text =
      ': keep-alive\n\n' +
      'event: change\nid: 7\ndata: {"id":7}\n\n' +
      'event: change\r\nid: 8\r\ndata: line one\r\ndata:line two\r\n\r\n' +
      'data: no name, id kept\n\n' +
      'id: 9\nevent: change\n\n' + // no data: not dispatched, but the id sticks
      'retry: 2500\nevent:change\ndata\n\n';
    const events: SseEvent[] = [];
    // One character at a time: every cut point, including inside `\r\n`.
    for (const c of text) events.push(...parser.feed(c));
    expect(events).toEqual([
      { event: 'change', id: '7', data: '{"id":7}' },
      { event: 'change', id: '8', data: 'line one\nline two' },
      { event: 'message', id: '8', data: 'no name, id kept' },
      { event: 'change', id: '9', data: '' },
    ]);
    expect(parser.lastEventId).toBe('9');
    expect(parser.retry).toBe(2500);
  });

  it('gives an event only once its blank line arrived', () => {
    const parser = new SseParser();
    expect(parser.feed('event: change\nid: 1\ndata: {}\n')).toEqual([]);
    expect(parser.feed('\nevent: change\nid: 2\ndata: {"a":1}\n\nid: 3')).toEqual([
      { event: 'change', id: '1', data: '{}' },
      { event: 'change', id: '2', data: '{"a":1}' },
    ]);
  });
});

describe('backoffMs', () => {
  it('doubles from the base up to the cap, jitter scaling into [50 %, 100 %]', () => {
    expect([0, 1, 2, 3, 4, 5, 6, 40].map((n) => backoffMs(n))).toEqual([500, 1000, 2000, 4000, 8000, 15000, 15000, 15000]);
    expect(backoffMs(2, 500, 15_000, 0)).toBe(1000);
    expect(backoffMs(2, 500, 15_000, 0.5)).toBe(1500);
    expect(backoffMs(0, 2500)).toBe(2500);
  });
});

/** A response whose body streams `chunks`, then ends. */
function stream(chunks: string[], status = 200) {
  const encoder = new TextEncoder();
  const body = new ReadableStream<Uint8Array>({
    start(controller) {
      for (const chunk of chunks) controller.enqueue(encoder.encode(chunk));
      controller.close();
    },
  });
  return new Response(body, { status, headers: { 'Content-Type': 'text/event-stream' } });
}

/** A fetch answering from `answers` in order and recording each call's headers. */
function recorder(answers: (() => Response | Promise<Response>)[]) {
  const calls: { url: string; headers: Record<string, string> }[] = [];
  const fetchImpl = (async (input: RequestInfo | URL, init?: RequestInit) => {
    calls.push({ url: String(input), headers: { ...(init?.headers as Record<string, string>) } });
    const answer = answers.shift();
    if (!answer) throw new TypeError('network down');
    return answer();
  }) as typeof fetch;
  return { calls, fetchImpl };
}

describe('LiveFeed', () => {
  it('reconnects with back-off and Last-Event-ID, and stops on a 401', async () => {
    const { calls, fetchImpl } = recorder([
      () => stream(['event: change\nid: 11\ndata: {"id":11}\n\nevent: change\nid: 1', '2\ndata: {"id":12}\n\n']),
      () => {
        throw new TypeError('connection refused');
      },
      () => new Response('busy', { status: 503 }),
      () => stream(['retry: 100\n\n: keep-alive\n\nevent: change\nid: 13\ndata: {"id":13}\n\n']),
      () => new Response('{}', { status: 401 }),
    ]);
    const waits: number[] = [];
    const events: SseEvent[] = [];
    const states: LiveState[] = [];
    const fatal: number[] = [];
    const opts: FeedOptions = {
      base: 'http://vexil.test',
      project: 'my project',
      token: () => 'tok',
      onEvent: (e) => events.push(e),
      onState: (s) => states.push(s),
      onFatal: (status) => fatal.push(status),
      fetchImpl,
      sleep: async (ms) => {
        waits.push(ms);
      },
      random: () => 1,
    };
    const feed = new LiveFeed(opts);
    await feed.done;
    expect(events.map((e) => [e.event, e.id, e.data])).toEqual([
      ['change', '11', '{"id":11}'],
      ['change', '12', '{"id":12}'],
      ['change', '13', '{"id":13}'],
    ]);
    expect(calls.map((c) => [c.url, c.headers.Authorization, c.headers['Last-Event-ID']])).toEqual([
      ['http://vexil.test/api/v1/projects/my%20project/events', 'Bearer tok', undefined],
      ['http://vexil.test/api/v1/projects/my%20project/events', 'Bearer tok', '12'],
      ['http://vexil.test/api/v1/projects/my%20project/events', 'Bearer tok', '12'],
      ['http://vexil.test/api/v1/projects/my%20project/events', 'Bearer tok', '12'],
      ['http://vexil.test/api/v1/projects/my%20project/events', 'Bearer tok', '13'],
    ]);
    // A good connection resets the back-off; the server's `retry:` becomes the base.
    expect(waits).toEqual([500, 1000, 2000, 100]);
    expect(fatal).toEqual([401]);
    expect(states).toEqual([
      'connecting', 'live', 'offline',
      'connecting', 'offline',
      'connecting', 'offline',
      'connecting', 'live', 'offline',
      'connecting', 'offline',
    ]);
    expect(feed.lastEventId).toBe('13');
  });

  it('resumes from a given id and ends when stopped', async () => {
    let release: () => void = () => {};
    const held = new Promise<void>((resolve) => (release = resolve));
    const { calls, fetchImpl } = recorder([
      async () => {
        await held;
        throw new DOMException('aborted', 'AbortError');
      },
    ]);
    const sleep = vi.fn(async () => {});
    const feed = new LiveFeed({ project: 'default', token: () => null, onEvent: () => {}, lastEventId: '40', fetchImpl, sleep });
    await Promise.resolve();
    feed.stop();
    release();
    await feed.done;
    expect(calls).toEqual([{ url: '/api/v1/projects/default/events', headers: { Accept: 'text/event-stream', 'Last-Event-ID': '40' } }]);
    expect(sleep).not.toHaveBeenCalled();
  });
});

describe('LiveHub', () => {
  it('connects after the delay from the anchor, and hands each subscriber one debounced burst', async () => {
    vi.useFakeTimers();
    try {
      const made: FeedOptions[] = [];
      const stopped: string[] = [];
      const anchors: string[] = [];
      const hub = new LiveHub(
        { token: () => 't' },
        {
          anchor: async (project) => {
            anchors.push(project);
            return project === 'default' ? '41' : '0';
          },
          connectDelayMs: 1500,
        },
        (o) => {
          made.push(o);
          return { stop: () => stopped.push(o.project) } as unknown as LiveFeed;
        },
      );
      const bursts: string[][] = [];
      const others: string[][] = [];
      hub.subscribe('default', (events) => bursts.push(events.map((e) => e.id)), 250);
      const off = hub.subscribe('other', (events) => others.push(events.map((e) => e.id)), 250);
      await hub.watch('default');
      await hub.watch('default');
      expect(anchors).toEqual(['default']);
      vi.advanceTimersByTime(1499);
      expect(made).toEqual([]);
      vi.advanceTimersByTime(1);
      expect(made.map((o) => [o.project, o.lastEventId])).toEqual([['default', '41']]);
      const send = (id: string) => made[0].onEvent({ event: 'change', id, data: '{}' });
      send('42');
      vi.advanceTimersByTime(200);
      send('43');
      vi.advanceTimersByTime(249);
      expect(bursts).toEqual([]);
      vi.advanceTimersByTime(1);
      expect(bursts).toEqual([['42', '43']]);
      send('44');
      vi.advanceTimersByTime(250);
      expect(bursts).toEqual([['42', '43'], ['44']]);
      expect(others).toEqual([]);
      off();
      // Leaving before the delay ran out: the superseded feed never opens.
      await hub.watch('other');
      expect(stopped).toEqual(['default']);
      await hub.watch('third');
      vi.advanceTimersByTime(1500);
      expect(made.map((o) => [o.project, o.lastEventId])).toEqual([
        ['default', '41'],
        ['third', '0'],
      ]);
      hub.stop();
      expect(stopped).toEqual(['default', 'third']);
    } finally {
      vi.useRealTimers();
    }
  });
});
