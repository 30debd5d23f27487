/**
 * test/integration/network/fixtures: helpers for the network tests — talk
 * TCP/UDP from the host (loopback only), serve UDP inside a container's own
 * network namespace (busybox has no UDP server: node is run there with
 * nsenter, stopped by PID), wait for a daemon's per-container network state
 * to be gone, and the leftover check every network test file ends with.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { readFileSync, readdirSync } from 'node:fs';
import net from 'node:net';
import type { CmdResult, TestDaemon } from '../../fixtures/testDaemon.js';
import { knownNetworks, networkLeftovers, remember, type Known } from '../../fixtures/networkCleanup.js';

export function ok(r: CmdResult, what: string): string {
  assert.equal(r.code, 0, `${what} failed (${r.code}): ${r.stdout}${r.stderr}`);
  return r.stdout;
}

/** Reads what a TCP server at host:port says until it closes (or the timeout). */
export function tcpRead(host: string, port: number, timeoutMs = 5000): Promise<string> {
  return new Promise((resolve) => {
    const s = net.connect(port, host);
    let buf = '';
    const timer = setTimeout(() => {
      s.destroy();
      resolve(`TIMEOUT:${buf}`);
    }, timeoutMs);
    s.on('data', (b: Buffer) => (buf += b.toString()));
    s.on('end', () => {
      clearTimeout(timer);
      resolve(buf);
    });
    s.on('error', (e) => {
      clearTimeout(timer);
      resolve(`ERROR:${e.message}`);
    });
  });
}

/** Sends one datagram and returns the first answer (null after the timeout). */
export function udpAsk(host: string, port: number, msg: string, timeoutMs = 3000): Promise<string | null> {
  return new Promise((resolve) => {
    const s = createSocket('udp4');
    const timer = setTimeout(() => {
      s.close();
      resolve(null);
    }, timeoutMs);
    s.on('message', (m) => {
      clearTimeout(timer);
      s.close();
      resolve(m.toString());
    });
    s.send(msg, port, host);
  });
}

/** A UDP echo server ("echo:" + message) on `port` inside the network namespace at `netnsPath`. */
export async function udpEchoIn(netnsPath: string, port: number): Promise<{ stop: () => void }> {
  const code = `const s=require('dgram').createSocket('udp4');s.on('message',(m,r)=>s.send('echo:'+m,r.port,r.address));s.bind(${port},'0.0.0.0',()=>console.log('ready'));`;
  const child: ChildProcess = spawn('nsenter', [`--net=${netnsPath}`, process.execPath, '-e', code], { stdio: ['ignore', 'pipe', 'pipe'] });
  await new Promise<void>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error('udp echo server did not start')), 10_000);
    child.stdout?.on('data', (b: Buffer) => {
      if (b.toString().includes('ready')) {
        clearTimeout(t);
        resolve();
      }
    });
    child.on('exit', (c) => reject(new Error(`udp echo server exited ${c}`)));
  });
  return {
    stop: () => {
      if (child.pid && child.exitCode === null) process.kill(child.pid, 'SIGKILL');
    },
  };
}

export async function waitFor(what: string, fn: () => boolean | Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if (await fn()) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  assert.fail(`timed out waiting for ${what}`);
}

/** Per-container network state of the daemon still on the host: netns mounts, veths, portmap chains. */
export function containerLeftovers(d: TestDaemon): string[] {
  const k = knownNetworks(d.netIdentity);
  const out: string[] = [];
  for (const l of readFileSync('/proc/self/mountinfo', 'utf8').split('\n')) {
    const f = l.split(' ');
    // The daemon keeps one namespace made ahead (netns/spare-*): it is no container's.
    if ((f[4] ?? '').startsWith(d.root) && l.includes(' nsfs ') && !(f[4] ?? '').includes('/netns/spare-')) out.push(`netns ${f[4]}`);
  }
  for (const dev of readdirSync('/sys/class/net')) {
    if (!dev.startsWith('veth')) continue;
    try {
      const master = readFileSync(`/sys/class/net/${dev}/master/uevent`, 'utf8').match(/INTERFACE=(\S+)/)?.[1] ?? '';
      if (k.bridges.includes(master)) out.push(`veth ${dev} on ${master}`);
    } catch {
      // no master
    }
  }
  for (const x of networkLeftovers(d.netIdentity)) if (x.startsWith('chain nat/CNI-DN-') || /CNI-DN-/.test(x)) out.push(x);
  return out;
}

/** Waits until the containers' network state is gone (teardown runs in the background after exit). */
export async function assertNoContainerLeftovers(d: TestDaemon): Promise<void> {
  let last: string[] = [];
  await waitFor(
    'the containers\' network state to go',
    () => {
      last = containerLeftovers(d);
      return last.length === 0;
    },
    15_000,
  ).catch(() => assert.deepEqual(last, [], 'network state left behind'));
}

/**
 * Every network the daemon has or had (its bridge and subnet), recorded
 * before cleanup() removes its database, so the final check knows them.
 */
export async function seenNetworks(d: TestDaemon, prior?: Known): Promise<Known> {
  const k = prior ?? knownNetworks(d.netIdentity);
  const r = await d.http('GET', '/networks').catch(() => null);
  for (const n of (r?.json as Array<{ Id: string; Name: string; Driver: string; Options: Record<string, string>; IPAM: { Config: Array<{ Subnet: string }> } }> | null) ?? []) {
    if (n.Driver !== 'bridge') continue;
    const bridge = n.Name === 'bridge' ? d.bridge : (n.Options['com.docker.network.bridge.name'] ?? `br-${n.Id.slice(0, 12)}`);
    for (const c of n.IPAM.Config) remember(k, bridge, c.Subnet);
  }
  return k;
}

/** After cleanup(): nothing of the daemon's networking is left on the host. */
export function assertNoNetworkLeftovers(d: TestDaemon, seen: Known): void {
  assert.deepEqual(networkLeftovers(d.netIdentity, seen), [], 'network state of the test daemon left on the host');
}
