import { schemaTests } from './schema-assertions.js';

schemaTests('staging');
