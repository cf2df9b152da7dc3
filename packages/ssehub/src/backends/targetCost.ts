import type { Target } from './Backend.js';

// What a name costs to keep, beyond its characters: a string header and its slot (a guess on the
// safe side, so that a log bounded in bytes stays bounded in memory).
const NAME_OVERHEAD_BYTES = 32;

/** The memory a target's names hold, estimated: 32 bytes and two per character, each. */
export function targetCost(target: Target): number {
  if (target.all === true) return 0;
  return namesCost(target.clients) + namesCost(target.users) + namesCost(target.rooms);
}

function namesCost(names: readonly string[] | undefined): number {
  if (names === undefined) return 0;
  let cost = 0;
  for (const name of names) cost += NAME_OVERHEAD_BYTES + 2 * name.length;
  return cost;
}
