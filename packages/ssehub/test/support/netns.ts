/**
 * A peer on its own network: a Linux network namespace joined to this one by a veth pair, so
 * that a test can make a client vanish without a FIN (its link goes down: no packet in or out),
 * as a laptop shut or a network gone does. Needs root and iproute2 (`ip`); on a developer
 * machine without them the suites skip loudly, in CI (`CI=true`) they fail.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';

const IN_CI = process.env.CI === 'true';

function canUseNamespaces(): boolean {
  if (process.getuid?.() !== 0 || !['/usr/sbin/ip', '/sbin/ip', '/usr/bin/ip'].some((path) => existsSync(path))) return false;
  try {
    execFileSync('ip', ['netns', 'list'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

const available = canUseNamespaces();

/** True where a namespace cannot be made and the suite may skip (never in CI). */
export const skipNetns = !available && !IN_CI;
if (skipNetns) {
  console.warn('\n*** SKIPPED: dead-peer tests need root and iproute2 (ip netns); CI runs them. ***\n');
}

let made = 0;

/** A namespace with one address, reachable from here at `peerAddress`; this side is `hostAddress`. */
export class IsolatedPeer {
  readonly name: string;
  readonly hostAddress: string;
  readonly peerAddress: string;
  readonly #hostLink: string;
  readonly #peerLink: string;
  readonly #children: ChildProcess[] = [];

  constructor() {
    if (!available) throw new Error('network namespaces are not available here: CI must run as root with iproute2 installed');
    const id = `${process.pid % 10_000}x${made++}`;
    // Names of network links are limited to 15 characters.
    this.name = `ssehub-${id}`;
    this.#hostLink = `sh${id}h`;
    this.#peerLink = `sh${id}p`;
    // A /30 of its own per peer, from the pid and a counter, in 10.211.0.0/16.
    const block = ((process.pid * 7 + made * 4) % 16_000) * 4;
    const third = Math.floor(block / 256) % 256;
    const fourth = block % 256;
    this.hostAddress = `10.211.${third}.${fourth + 1}`;
    this.peerAddress = `10.211.${third}.${fourth + 2}`;
    const ip = (...args: string[]): void => {
      execFileSync('ip', args, { stdio: 'ignore' });
    };
    ip('netns', 'add', this.name);
    ip('link', 'add', this.#hostLink, 'type', 'veth', 'peer', 'name', this.#peerLink);
    ip('link', 'set', this.#peerLink, 'netns', this.name);
    ip('addr', 'add', `${this.hostAddress}/30`, 'dev', this.#hostLink);
    ip('link', 'set', this.#hostLink, 'up');
    ip('netns', 'exec', this.name, 'ip', 'addr', 'add', `${this.peerAddress}/30`, 'dev', this.#peerLink);
    ip('netns', 'exec', this.name, 'ip', 'link', 'set', this.#peerLink, 'up');
  }

  /** Runs `node -e script` inside the namespace; killed by `dispose()`. */
  node(script: string): ChildProcess {
    const child = spawn('ip', ['netns', 'exec', this.name, process.execPath, '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
    this.#children.push(child);
    return child;
  }

  /** The peer's link goes down: from here on it neither answers nor closes, it is just gone. */
  vanish(): void {
    execFileSync('ip', ['netns', 'exec', this.name, 'ip', 'link', 'set', this.#peerLink, 'down'], { stdio: 'ignore' });
  }

  dispose(): void {
    for (const child of this.#children) child.kill('SIGKILL');
    try {
      execFileSync('ip', ['link', 'del', this.#hostLink], { stdio: 'ignore' });
    } catch {
      // Gone with the namespace already.
    }
    try {
      execFileSync('ip', ['netns', 'del', this.name], { stdio: 'ignore' });
    } catch {
      // Already gone.
    }
  }
}
