/**
 * A child process spoken to in lines: one command line on stdin, one JSON answer line on
 * stdout. Used for the measured servers (JSON commands) and the C load client (text commands).
 */
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';

export class LineProcess {
  #child;
  #waiting = [];
  #lines = [];
  #exited = false;
  #stderr = '';

  /** Starts `command args`; `name` appears in errors. */
  constructor(name, command, args, options = {}) {
    this.name = name;
    this.#child = spawn(command, args, { stdio: ['pipe', 'pipe', 'pipe'], ...options });
    this.pid = this.#child.pid;
    createInterface({ input: this.#child.stdout }).on('line', (line) => this.#onLine(line));
    this.#child.stderr.on('data', (chunk) => {
      this.#stderr = (this.#stderr + chunk.toString()).slice(-4000);
    });
    this.exited = new Promise((resolve) => {
      this.#child.on('exit', (code, signal) => {
        this.#exited = true;
        for (const waiter of this.#waiting.splice(0))
          waiter.reject(new Error(`${name} exited (${code ?? signal}): ${this.#stderr.trim()}`));
        resolve({ code, signal });
      });
    });
    this.#child.stdin.on('error', () => {});
  }

  #onLine(line) {
    let value;
    try {
      value = JSON.parse(line);
    } catch {
      return; // not an answer (a log line, say)
    }
    const waiter = this.#waiting.shift();
    if (waiter === undefined) this.#lines.push(value);
    else waiter.resolve(value);
  }

  /** The next answer line, within `timeoutMs`. */
  next(timeoutMs = 60_000) {
    if (this.#lines.length > 0) return Promise.resolve(this.#lines.shift());
    if (this.#exited) return Promise.reject(new Error(`${this.name} has exited: ${this.#stderr.trim()}`));
    return new Promise((resolve, reject) => {
      const waiter = {
        resolve: (value) => {
          clearTimeout(timer);
          resolve(value);
        },
        reject: (error) => {
          clearTimeout(timer);
          reject(error);
        },
      };
      const timer = setTimeout(() => {
        this.#waiting.splice(this.#waiting.indexOf(waiter), 1);
        reject(new Error(`${this.name}: no answer within ${timeoutMs} ms`));
      }, timeoutMs);
      this.#waiting.push(waiter);
    });
  }

  /** Sends one command line (an object is sent as JSON) and waits for its answer. */
  request(command, timeoutMs) {
    this.send(command);
    return this.next(timeoutMs);
  }

  /** Sends one command line without waiting. */
  send(command) {
    this.#child.stdin.write(`${typeof command === 'string' ? command : JSON.stringify(command)}\n`);
  }

  /** Ends the process: closes stdin, then SIGTERM, then SIGKILL, each after a grace period. */
  async stop(graceMs = 2000) {
    if (this.#exited) return;
    this.#child.stdin.end();
    const wait = (ms) => Promise.race([this.exited, new Promise((resolve) => setTimeout(() => resolve('timeout'), ms).unref())]);
    if ((await wait(graceMs)) !== 'timeout') return;
    this.#child.kill('SIGTERM');
    if ((await wait(graceMs)) !== 'timeout') return;
    this.#child.kill('SIGKILL');
    await this.exited;
  }
}
