import type { Socket } from 'node:net';

/**
 * Writes the last bytes of a response and closes the connection once they are handed to the
 * kernel (which still delivers them), as node:http does for `Connection: close`: waiting for
 * the client to close its side could wait forever on a client that pools connections.
 */
export function finishResponse(socket: Socket, bytes: Uint8Array): void {
  socket.end(bytes, () => socket.destroy());
}
