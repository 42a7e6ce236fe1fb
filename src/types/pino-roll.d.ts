declare module 'pino-roll' {
  import type SonicBoom from 'sonic-boom';

  interface Options {
    file: string | (() => string);
    size?: string | number;
    frequency?: 'daily' | 'hourly' | number;
    extension?: string;
    symlink?: boolean;
    mkdir?: boolean;
    limit?: { count?: number; removeOtherLogFiles?: boolean };
  }
  export default function build(options: Options): Promise<SonicBoom>;
}
