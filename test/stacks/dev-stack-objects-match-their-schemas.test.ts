import { schemaTests } from './schema-assertions.js';

schemaTests('dev');
