import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { packageRoot } from '../common/paths';
import { batchJobInputJsonSchema } from '../pipeline/job-input';

/** `npm run schema`: writes docs/batch-job-input.schema.json from the zod schema the first activity checks with. */
const file = join(packageRoot(), 'docs', 'batch-job-input.schema.json');
writeFileSync(file, `${JSON.stringify(batchJobInputJsonSchema(), null, 2)}\n`);
console.log(`wrote ${file}`);
