/**
 * `npm run api:types`: starts the stack on free ports, reads the checkout service's GET /openapi.json and
 * writes its types to schema.d.ts. A test fails when the committed file is not what this would write.
 */
import { writeFile } from 'node:fs/promises';
import { startTestStack } from '../../test/support/stack.ts';
import { renderApiTypes } from './apiTypes.ts';

const stack = await startTestStack();
try {
  const document = await (await fetch(`${stack.info.checkoutUrl}/openapi.json`)).json();
  await writeFile(new URL('./schema.d.ts', import.meta.url), await renderApiTypes(document));
  process.stdout.write('wrote examples/typed-client/schema.d.ts\n');
} finally {
  await stack.stop();
}
