"""The adoption services (issue 11): every write of the adoption domain, keyword-only, in the
caller's transaction. Usage imports: `crm_impl.adoption.services.usage`; the registers (ADKAR,
legacy tools, benefits): their own modules in this package."""
