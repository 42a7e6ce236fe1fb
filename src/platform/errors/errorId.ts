import { randomInt } from 'node:crypto';

const ALPHABET = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ';

/** `ERR-<epoch ms>-<6 upper-case base36>`: quoted by users in support tickets, searched for in logs. */
export function newErrorId(now: number = Date.now()): string {
  let suffix = '';
  for (let i = 0; i < 6; i++) suffix += ALPHABET[randomInt(ALPHABET.length)];
  return `ERR-${now}-${suffix}`;
}

export const ERROR_ID_PATTERN = /^ERR-\d{13}-[0-9A-Z]{6}$/;
