import { guardrailTests } from './guardrails.js';

guardrailTests('staging');
