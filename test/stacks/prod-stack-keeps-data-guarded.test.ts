import { guardrailTests } from './guardrails.js';

guardrailTests('prod');
