/*
 * sseload: the benchmark's load client. One thread, one epoll loop, non-blocking sockets.
 *
 * It opens N Server-Sent Events connections to 127.0.0.1:PORT, de-chunks and parses every
 * stream incrementally, and for each event whose data is {"s":SEQ,"t":NS,...} records the
 * latency (CLOCK_MONOTONIC now - NS; the publisher stamps NS with the same clock) and the seq
 * in a per-connection bitmap, so loss, duplicates and misdelivered events are counted exactly.
 *
 * Driven by commands on stdin, one per line; each command answers one JSON line on stdout:
 *   open N CONC ROOMS USERS  open N more connections, at most CONC connecting at once;
 *                            ROOMS/USERS > 0 put ?user=&room= in the request (see below)
 *   start MODE               reset the counters; MODE all | rooms | users says who gets what
 *   expect COUNT IDLE_MS     seqs 0..COUNT-1 were published: wait until every connection has
 *                            its share (or IDLE_MS pass without progress), then report
 *   pause / resume           stop / restart reading the sockets (a client that does not read)
 *   rcvbuf BYTES             SO_RCVBUF of the connections opened next (0: the kernel's autotuning);
 *                            a small one keeps the kernel from absorbing what a paused client misses
 *   quit                     close everything and exit
 *
 * Targeting is a pure function of the seq shared with the publisher (bench/servers/targets.mjs):
 * connection i is user u(i % USERS) and in rooms r(i % R), r((i + R/3) % R), r((i + 2R/3) % R);
 * event SEQ goes to rooms roomA(SEQ), roomB(SEQ) (two distinct rooms) or to user userOf(SEQ).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <netinet/tcp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>

#define READ_BUF (256 * 1024)
#define LINE_CAP 512
#define HEAD_CAP 2048
#define STDIN_TAG UINT32_MAX
#define HIST_BUCKETS 4096

enum { C_FREE, C_CONNECTING, C_HEADERS, C_BODY, C_CLOSED };
enum { K_SIZE, K_EXT, K_SIZE_LF, K_DATA, K_DATA_CR, K_DATA_LF, K_TRAILER };
enum { M_ALL, M_ROOMS, M_USERS };

typedef struct {
  int fd;
  uint8_t state, chunked, kstate, opened;
  uint64_t krem;                /* bytes left in the current chunk */
  uint32_t linelen, headlen;
  char *head;                   /* response head until the blank line, then freed */
  char line[LINE_CAP];          /* the current SSE line when it spans reads */
  int64_t pend_seq, pend_ts;    /* from the data line, recorded when the event dispatches */
  uint64_t *bits;               /* seqs received */
  uint32_t nwords;
  uint64_t received, dups, misdelivered;
} conn_t;

static conn_t *conns;
static uint32_t nconns, capconns;
static int ep;
static int port;
static const char *base_path = "/events";
static char rbuf[READ_BUF];
static int64_t now_ns;

/* counters of the current measurement */
static int mode = M_ALL;
static int rooms_n, users_n;
static uint64_t hist[HIST_BUCKETS];
static uint64_t total_received, total_dups, total_misdelivered, total_bytes;
static int64_t first_recv_ns, last_recv_ns, last_progress_ns, start_ns;
static struct rusage start_usage;
static int paused;
static int rcvbuf;

/* pending commands */
static uint32_t open_target, open_next, open_count, open_inflight, open_done, open_failed, open_conc;
static int64_t open_start_ns;
static int opening;
static int64_t expect_count = -1, expect_idle_ns, expect_total;
static uint32_t *room_count, *pair_count, *user_count;

static int64_t mono_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* ── targeting: the same functions as bench/servers/targets.mjs ── */
static uint32_t mix32(uint32_t x) {
  x ^= x >> 16; x *= 0x7feb352dU; x ^= x >> 15; x *= 0x846ca68bU; x ^= x >> 16;
  return x;
}
static uint32_t room_a(uint32_t seq) { return mix32(seq) % (uint32_t)rooms_n; }
static uint32_t room_b(uint32_t seq) {
  return (room_a(seq) + 1 + mix32(seq ^ 0x9e3779b9U) % (uint32_t)(rooms_n - 1)) % (uint32_t)rooms_n;
}
static uint32_t user_of(uint32_t seq) { return mix32(seq) % (uint32_t)users_n; }
static uint32_t conn_room(uint32_t i, int k) { return (i + (uint32_t)(k * (rooms_n / 3))) % (uint32_t)rooms_n; }
static int conn_in_room(uint32_t i, uint32_t room) {
  for (int k = 0; k < 3; k++) if (conn_room(i, k) == room) return 1;
  return 0;
}

/* ── latency histogram: 64 sub-buckets per power of two of microseconds (~1.6 % wide) ── */
static int bucket_of(uint64_t us) {
  if (us < 128) return (int)us;
  int msb = 63 - __builtin_clzll(us);
  int shift = msb - 6;
  int idx = (shift + 1) * 64 + (int)((us >> shift) - 64);
  return idx < HIST_BUCKETS ? idx : HIST_BUCKETS - 1;
}
static double bucket_mid(int idx) {
  if (idx < 128) return idx + 0.5;
  int shift = idx / 64 - 1;
  uint64_t low = (uint64_t)(idx % 64 + 64) << shift;
  return (double)low + (double)(1ULL << shift) / 2.0;
}
static double percentile(double p) {
  uint64_t n = 0;
  for (int i = 0; i < HIST_BUCKETS; i++) n += hist[i];
  if (n == 0) return -1;
  uint64_t rank = (uint64_t)(p * (double)n);
  if (rank >= n) rank = n - 1;
  uint64_t seen = 0;
  for (int i = 0; i < HIST_BUCKETS; i++) {
    seen += hist[i];
    if (seen > rank) return bucket_mid(i);
  }
  return -1;
}

static void reply(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void reply(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vprintf(fmt, ap);
  va_end(ap);
  putchar('\n');
  fflush(stdout);
}

/* ── one event arrived on connection c ── */
static void record(conn_t *c, uint32_t idx, int64_t seq, int64_t ts) {
  if (seq < 0) return;
  if (mode == M_ROOMS) {
    if (!conn_in_room(idx, room_a((uint32_t)seq)) && !conn_in_room(idx, room_b((uint32_t)seq))) {
      c->misdelivered++;
      total_misdelivered++;
      return;
    }
  } else if (mode == M_USERS) {
    if (idx % (uint32_t)users_n != user_of((uint32_t)seq)) {
      c->misdelivered++;
      total_misdelivered++;
      return;
    }
  }
  uint32_t word = (uint32_t)(seq >> 6);
  if (word >= c->nwords) {
    uint32_t n = c->nwords ? c->nwords : 16;
    while (n <= word) n *= 2;
    c->bits = realloc(c->bits, n * sizeof(uint64_t));
    memset(c->bits + c->nwords, 0, (n - c->nwords) * sizeof(uint64_t));
    c->nwords = n;
  }
  uint64_t bit = 1ULL << (seq & 63);
  if (c->bits[word] & bit) {
    c->dups++;
    total_dups++;
    return;
  }
  c->bits[word] |= bit;
  c->received++;
  total_received++;
  int64_t lat = now_ns - ts;
  hist[bucket_of(lat > 0 ? (uint64_t)(lat / 1000) : 0)]++;
  if (first_recv_ns == 0) first_recv_ns = now_ns;
  last_recv_ns = now_ns;
  last_progress_ns = now_ns;
}

static int64_t parse_int(const char *p, const char *end, const char **out) {
  int64_t v = 0;
  int any = 0;
  while (p < end && *p >= '0' && *p <= '9') { v = v * 10 + (*p - '0'); p++; any = 1; }
  *out = p;
  return any ? v : -1;
}

/* One complete SSE line (without its LF). Only data lines of bench events matter. */
static void sse_line(conn_t *c, uint32_t idx, const char *s, uint32_t n) {
  if (n > 0 && s[n - 1] == '\r') n--;
  if (n == 0) {
    if (c->pend_seq >= 0) record(c, idx, c->pend_seq, c->pend_ts);
    c->pend_seq = -1;
    return;
  }
  if (n < 11 || memcmp(s, "data:", 5) != 0) return;
  const char *p = s + 5, *end = s + n;
  if (*p == ' ') p++;
  if (end - p < 6 || memcmp(p, "{\"s\":", 5) != 0) return;
  int64_t seq = parse_int(p + 5, end, &p);
  if (seq < 0 || end - p < 5 || memcmp(p, ",\"t\":", 5) != 0) return;
  int64_t ts = parse_int(p + 5, end, &p);
  c->pend_seq = seq;
  c->pend_ts = ts;
}

/* Body bytes (already de-chunked): split into lines, buffering a line that spans reads. */
static void sse_bytes(conn_t *c, uint32_t idx, const char *p, size_t n) {
  while (n > 0) {
    const char *nl = memchr(p, '\n', n);
    if (nl == NULL) {
      size_t room = LINE_CAP - c->linelen;
      size_t take = n < room ? n : room; /* longer lines are cut: only their start matters */
      memcpy(c->line + c->linelen, p, take);
      c->linelen += (uint32_t)take;
      return;
    }
    size_t len = (size_t)(nl - p);
    if (c->linelen == 0) sse_line(c, idx, p, (uint32_t)len);
    else {
      size_t room = LINE_CAP - c->linelen;
      size_t take = len < room ? len : room;
      memcpy(c->line + c->linelen, p, take);
      sse_line(c, idx, c->line, c->linelen + (uint32_t)take);
      c->linelen = 0;
    }
    p = nl + 1;
    n -= len + 1;
  }
}

/* Transfer-Encoding: chunked, decoded incrementally. */
static int body_bytes(conn_t *c, uint32_t idx, const char *p, size_t n) {
  if (!c->chunked) { sse_bytes(c, idx, p, n); return 0; }
  const char *end = p + n;
  while (p < end) {
    switch (c->kstate) {
      case K_SIZE: {
        char ch = *p++;
        int d = ch >= '0' && ch <= '9' ? ch - '0' : ch >= 'a' && ch <= 'f' ? ch - 'a' + 10 : ch >= 'A' && ch <= 'F' ? ch - 'A' + 10 : -1;
        if (d >= 0) c->krem = c->krem * 16 + (uint64_t)d;
        else if (ch == '\r') c->kstate = K_SIZE_LF;
        else if (ch == ';') c->kstate = K_EXT;
        else return -1;
        break;
      }
      case K_EXT: if (*p++ == '\r') c->kstate = K_SIZE_LF; break;
      case K_SIZE_LF:
        if (*p++ != '\n') return -1;
        c->kstate = c->krem == 0 ? K_TRAILER : K_DATA;
        break;
      case K_DATA: {
        size_t take = (size_t)(end - p) < c->krem ? (size_t)(end - p) : (size_t)c->krem;
        sse_bytes(c, idx, p, take);
        p += take;
        c->krem -= take;
        if (c->krem == 0) c->kstate = K_DATA_CR;
        break;
      }
      case K_DATA_CR: if (*p++ != '\r') return -1; c->kstate = K_DATA_LF; break;
      case K_DATA_LF: if (*p++ != '\n') return -1; c->kstate = K_SIZE; break;
      case K_TRAILER: return -1; /* the response ended: the stream should not */
    }
  }
  return 0;
}

static void close_conn(conn_t *c) {
  if (c->fd >= 0) {
    epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL);
    close(c->fd);
    c->fd = -1;
  }
  free(c->head);
  c->head = NULL;
  c->state = C_CLOSED;
}

static void open_finished(conn_t *c, int ok) {
  if (c->opened) return;
  c->opened = 1;
  open_inflight--;
  open_done++;
  if (!ok) open_failed++;
}

static void start_connect(uint32_t idx);

static void pump_opens(void) {
  while (opening && open_next < open_target && open_inflight < open_conc) start_connect(open_next++);
  if (opening && open_done == open_count) {
    opening = 0;
    double ms = (double)(mono_ns() - open_start_ns) / 1e6;
    uint32_t alive = 0;
    for (uint32_t i = 0; i < nconns; i++) alive += conns[i].state == C_BODY;
    reply("{\"opened\":%u,\"failed\":%u,\"alive\":%u,\"ms\":%.3f}", open_done - open_failed, open_failed, alive, ms);
  }
}

static void fail_conn(conn_t *c) {
  int was_open = c->state == C_BODY;
  close_conn(c);
  if (!was_open) open_finished(c, 0);
}

static void start_connect(uint32_t idx) {
  conn_t *c = &conns[idx];
  memset(c, 0, sizeof *c);
  c->pend_seq = -1;
  c->state = C_CONNECTING;
  open_inflight++;
  c->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (c->fd < 0) { fail_conn(c); return; }
  int one = 1;
  setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  if (rcvbuf > 0) setsockopt(c->fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf);
  struct sockaddr_in addr = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(c->fd, (struct sockaddr *)&addr, sizeof addr) < 0 && errno != EINPROGRESS) { fail_conn(c); return; }
  struct epoll_event ev = { .events = EPOLLOUT, .data.u32 = idx };
  if (epoll_ctl(ep, EPOLL_CTL_ADD, c->fd, &ev) < 0) fail_conn(c);
}

static void send_request(conn_t *c, uint32_t idx) {
  int err = 0;
  socklen_t len = sizeof err;
  if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0 || err != 0) { fail_conn(c); return; }
  char req[512], path[256];
  if (rooms_n > 0 || users_n > 0) {
    int n = snprintf(path, sizeof path, "%s?user=u%u", base_path, users_n > 0 ? idx % (uint32_t)users_n : idx);
    if (rooms_n > 0)
      snprintf(path + n, sizeof path - (size_t)n, "&room=r%u&room=r%u&room=r%u", conn_room(idx, 0), conn_room(idx, 1), conn_room(idx, 2));
  } else snprintf(path, sizeof path, "%s", base_path);
  int n = snprintf(req, sizeof req, "GET %s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nAccept: text/event-stream\r\n\r\n", path, port);
  if (write(c->fd, req, (size_t)n) != n) { fail_conn(c); return; }
  c->state = C_HEADERS;
  c->head = malloc(HEAD_CAP);
  struct epoll_event ev = { .events = EPOLLIN, .data.u32 = idx }; /* headers are read even when paused */
  epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &ev);
}

/* Reads the response head; the rest of the read is body. */
static void head_bytes(conn_t *c, uint32_t idx, const char *p, size_t n) {
  size_t room = HEAD_CAP - 1 - c->headlen;
  size_t take = n < room ? n : room;
  memcpy(c->head + c->headlen, p, take);
  c->headlen += (uint32_t)take;
  c->head[c->headlen] = 0;
  char *end = strstr(c->head, "\r\n\r\n");
  if (end == NULL) {
    if (c->headlen >= HEAD_CAP - 1) fail_conn(c);
    return;
  }
  size_t head_len = (size_t)(end - c->head) + 4;
  if (strncmp(c->head, "HTTP/1.1 200", 12) != 0 && strncmp(c->head, "HTTP/1.0 200", 12) != 0) { fail_conn(c); return; }
  *end = 0;
  for (char *q = c->head; *q; q++) if (*q >= 'A' && *q <= 'Z') *q = (char)(*q + 32);
  c->chunked = strstr(c->head, "transfer-encoding: chunked") != NULL;
  size_t body_in_head = c->headlen - head_len;
  char rest[HEAD_CAP];
  memcpy(rest, c->head + head_len, body_in_head);
  free(c->head);
  c->head = NULL;
  c->state = C_BODY;
  open_finished(c, 1);
  if (paused) {
    struct epoll_event ev = { .events = 0, .data.u32 = idx };
    epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &ev);
  }
  if (body_in_head > 0 && body_bytes(c, idx, rest, body_in_head) < 0) fail_conn(c);
  if (take < n && c->state == C_BODY && body_bytes(c, idx, p + take, n - take) < 0) fail_conn(c);
}

static void on_readable(conn_t *c, uint32_t idx) {
  ssize_t n = read(c->fd, rbuf, sizeof rbuf);
  if (n <= 0) {
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) return;
    fail_conn(c);
    return;
  }
  now_ns = mono_ns();
  total_bytes += (uint64_t)n;
  if (c->state == C_HEADERS) head_bytes(c, idx, rbuf, (size_t)n);
  else if (body_bytes(c, idx, rbuf, (size_t)n) < 0) fail_conn(c);
}

static void set_reading(int on) {
  paused = !on;
  for (uint32_t i = 0; i < nconns; i++) {
    if (conns[i].state != C_BODY) continue;
    struct epoll_event ev = { .events = on ? EPOLLIN : 0, .data.u32 = i };
    epoll_ctl(ep, EPOLL_CTL_MOD, conns[i].fd, &ev);
  }
}

/* ── measurement ── */
static void start_measure(int m) {
  mode = m;
  memset(hist, 0, sizeof hist);
  total_received = total_dups = total_misdelivered = total_bytes = 0;
  first_recv_ns = last_recv_ns = 0;
  start_ns = last_progress_ns = mono_ns();
  for (uint32_t i = 0; i < nconns; i++) {
    conn_t *c = &conns[i];
    c->received = c->dups = c->misdelivered = 0;
    if (c->bits) memset(c->bits, 0, c->nwords * sizeof(uint64_t));
  }
  getrusage(RUSAGE_SELF, &start_usage);
}

static uint64_t expected_for(uint32_t i) {
  if (mode == M_ALL) return (uint64_t)expect_count;
  if (mode == M_USERS) return user_count[i % (uint32_t)users_n];
  uint32_t r0 = conn_room(i, 0), r1 = conn_room(i, 1), r2 = conn_room(i, 2);
  uint32_t R = (uint32_t)rooms_n;
  return (uint64_t)room_count[r0] + room_count[r1] + room_count[r2] - pair_count[r0 * R + r1] - pair_count[r0 * R + r2] -
         pair_count[r1 * R + r2];
}

static void begin_expect(int64_t count, int64_t idle_ms) {
  expect_count = count;
  expect_idle_ns = idle_ms * 1000000LL;
  free(room_count); free(pair_count); free(user_count);
  room_count = pair_count = user_count = NULL;
  if (mode == M_ROOMS) {
    room_count = calloc((size_t)rooms_n, sizeof(uint32_t));
    pair_count = calloc((size_t)rooms_n * (size_t)rooms_n, sizeof(uint32_t));
    for (int64_t s = 0; s < count; s++) {
      uint32_t a = room_a((uint32_t)s), b = room_b((uint32_t)s);
      room_count[a]++; room_count[b]++;
      pair_count[a * (uint32_t)rooms_n + b]++; pair_count[b * (uint32_t)rooms_n + a]++;
    }
  } else if (mode == M_USERS) {
    user_count = calloc((size_t)users_n, sizeof(uint32_t));
    for (int64_t s = 0; s < count; s++) user_count[user_of((uint32_t)s)]++;
  }
  expect_total = 0;
  for (uint32_t i = 0; i < nconns; i++) if (conns[i].opened && conns[i].state != C_FREE) expect_total += (int64_t)expected_for(i);
}

static void finish_expect(void) {
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  double user_s = (double)(ru.ru_utime.tv_sec - start_usage.ru_utime.tv_sec) + (double)(ru.ru_utime.tv_usec - start_usage.ru_utime.tv_usec) / 1e6;
  double sys_s = (double)(ru.ru_stime.tv_sec - start_usage.ru_stime.tv_sec) + (double)(ru.ru_stime.tv_usec - start_usage.ru_stime.tv_usec) / 1e6;
  uint64_t lost = 0, beyond = 0, alive = 0, closed = 0, short_conns = 0;
  for (uint32_t i = 0; i < nconns; i++) {
    conn_t *c = &conns[i];
    if (!c->opened) continue;
    if (c->state == C_BODY) alive++; else closed++;
    uint64_t want = expected_for(i);
    if (c->received < want) { lost += want - c->received; short_conns++; }
    else beyond += c->received - want;
  }
  reply("{\"expected\":%lld,\"received\":%llu,\"lost\":%llu,\"duplicates\":%llu,\"misdelivered\":%llu,\"beyond\":%llu,"
        "\"alive\":%llu,\"closed\":%llu,\"shortConnections\":%llu,\"bytes\":%llu,\"startNs\":%lld,\"firstNs\":%lld,\"lastNs\":%lld,"
        "\"endNs\":%lld,\"cpuUser\":%.4f,\"cpuSys\":%.4f,\"latencyUs\":{\"p50\":%.1f,\"p90\":%.1f,\"p99\":%.1f,\"p999\":%.1f,\"max\":%.1f}}",
        (long long)expect_total, (unsigned long long)total_received, (unsigned long long)lost, (unsigned long long)total_dups,
        (unsigned long long)total_misdelivered, (unsigned long long)beyond, (unsigned long long)alive, (unsigned long long)closed,
        (unsigned long long)short_conns, (unsigned long long)total_bytes, (long long)start_ns, (long long)first_recv_ns,
        (long long)last_recv_ns, (long long)mono_ns(), user_s, sys_s, percentile(0.5), percentile(0.9), percentile(0.99),
        percentile(0.999), percentile(1.0));
  expect_count = -1;
}

static void check_expect(void) {
  if (expect_count < 0) return;
  int64_t now = mono_ns();
  if ((int64_t)total_received >= expect_total || now - last_progress_ns > expect_idle_ns) finish_expect();
}

static void command(char *line) {
  char word[16] = {0};
  long long a = 0, b = 0, c = 0, d = 0;
  int n = sscanf(line, "%15s %lld %lld %lld %lld", word, &a, &b, &c, &d);
  if (n < 1) return;
  if (strcmp(word, "open") == 0 && n == 5) {
    uint32_t want = nconns + (uint32_t)a;
    if (want > capconns) {
      conns = realloc(conns, want * sizeof(conn_t));
      memset(conns + capconns, 0, (want - capconns) * sizeof(conn_t));
      capconns = want;
    }
    rooms_n = (int)c;
    users_n = (int)d;
    open_next = nconns;
    open_target = want;
    open_count = (uint32_t)a;
    open_done = open_failed = 0;
    open_conc = (uint32_t)b;
    nconns = want;
    open_start_ns = mono_ns();
    opening = 1;
    pump_opens();
    return;
  }
  if (strcmp(word, "start") == 0) {
    char m[16] = {0};
    sscanf(line, "%*s %15s", m);
    start_measure(strcmp(m, "rooms") == 0 ? M_ROOMS : strcmp(m, "users") == 0 ? M_USERS : M_ALL);
    reply("{\"started\":%lld}", (long long)start_ns);
    return;
  }
  if (strcmp(word, "expect") == 0 && n >= 3) {
    begin_expect(a, b);
    check_expect();
    return;
  }
  if (strcmp(word, "rcvbuf") == 0 && n == 2) { rcvbuf = (int)a; reply("{\"rcvbuf\":%d}", rcvbuf); return; }
  if (strcmp(word, "pause") == 0) { set_reading(0); reply("{\"paused\":1}"); return; }
  if (strcmp(word, "resume") == 0) { set_reading(1); reply("{\"paused\":0}"); return; }
  if (strcmp(word, "quit") == 0) {
    for (uint32_t i = 0; i < nconns; i++) if (conns[i].fd > 0) close(conns[i].fd);
    reply("{\"quit\":1}");
    exit(0);
  }
  reply("{\"error\":\"unknown command\"}");
}

int main(int argc, char **argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: sseload PORT [PATH]  (commands on stdin, see the top of sseload.c)\n");
    return 2;
  }
  port = atoi(argv[1]);
  if (argc > 2) base_path = argv[2];
  struct rlimit rl;
  if (getrlimit(RLIMIT_NOFILE, &rl) == 0) { rl.rlim_cur = rl.rlim_max; setrlimit(RLIMIT_NOFILE, &rl); }
  ep = epoll_create1(EPOLL_CLOEXEC);
  struct epoll_event sev = { .events = EPOLLIN, .data.u32 = STDIN_TAG };
  epoll_ctl(ep, EPOLL_CTL_ADD, 0, &sev);
  static char cmd[1024];
  size_t cmdlen = 0;
  struct epoll_event evs[512];
  for (;;) {
    int n = epoll_wait(ep, evs, 512, 50);
    if (n < 0 && errno != EINTR) return 1;
    for (int i = 0; i < n; i++) {
      uint32_t idx = evs[i].data.u32;
      if (idx == STDIN_TAG) {
        ssize_t r = read(0, cmd + cmdlen, sizeof cmd - 1 - cmdlen);
        if (r <= 0) return 0; /* the orchestrator went away: stop */
        cmdlen += (size_t)r;
        char *nl;
        while ((nl = memchr(cmd, '\n', cmdlen)) != NULL) {
          *nl = 0;
          command(cmd);
          size_t used = (size_t)(nl - cmd) + 1;
          memmove(cmd, nl + 1, cmdlen - used);
          cmdlen -= used;
        }
        continue;
      }
      conn_t *c = &conns[idx];
      if (c->state == C_CONNECTING) {
        if (evs[i].events & (EPOLLOUT | EPOLLERR | EPOLLHUP)) send_request(c, idx);
      } else if (c->state == C_HEADERS || c->state == C_BODY) {
        if (evs[i].events & (EPOLLIN | EPOLLERR | EPOLLHUP)) on_readable(c, idx);
      }
    }
    pump_opens();
    check_expect();
  }
}
