/* SPDX-License-Identifier: GPL-2.0 */
#undef TRACE_SYSTEM
#define TRACE_SYSTEM nomad

#if !defined(_TRACE_NOMAD_H) || defined(TRACE_HEADER_MULTI_READ)
#define _TRACE_NOMAD_H

#include <linux/mm.h>
#include <linux/nomad.h>
#include <linux/tracepoint.h>

TRACE_DEFINE_ENUM(NOMAD_TPM_COMMITTED);
TRACE_DEFINE_ENUM(NOMAD_TPM_ABORTED_DIRTY);
TRACE_DEFINE_ENUM(NOMAD_TPM_ABORTED_REF);
TRACE_DEFINE_ENUM(NOMAD_TPM_FELL_BACK);
TRACE_DEFINE_ENUM(NOMAD_TPM_GAVE_UP);

/**
 * nomad_tpm - One step of a transactional migration of a folio.
 * @folio: The source folio.
 * @attempt: Attempt number, from 0.
 * @result: enum nomad_tpm_result.
 */
TRACE_EVENT(nomad_tpm,

	TP_PROTO(struct folio *folio, int attempt, int result),

	TP_ARGS(folio, attempt, result),

	TP_STRUCT__entry(
		__field(unsigned long, pfn)
		__field(int, nid)
		__field(int, attempt)
		__field(int, result)
	),

	TP_fast_assign(
		__entry->pfn = folio_pfn(folio);
		__entry->nid = folio_nid(folio);
		__entry->attempt = attempt;
		__entry->result = result;
	),

	TP_printk("pfn=0x%lx nid=%d attempt=%d result=%s",
		  __entry->pfn, __entry->nid, __entry->attempt,
		  __print_symbolic(__entry->result,
				   { NOMAD_TPM_COMMITTED, "commit" },
				   { NOMAD_TPM_ABORTED_DIRTY, "abort_dirty" },
				   { NOMAD_TPM_ABORTED_REF, "abort_ref" },
				   { NOMAD_TPM_FELL_BACK, "fallback" },
				   { NOMAD_TPM_GAVE_UP, "giveup" }))
);

#endif /* _TRACE_NOMAD_H */

/* This part must be outside protection */
#include <trace/define_trace.h>
