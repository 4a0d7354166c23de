"""Every message key Grafo's teaching layer sends, with its English and Brazilian Portuguese text.

The engine never sends prose of its own for these: it sends `{"key": ..., "params": {...}}` and the
browser words it from its catalogue in the reader's language. This table is the source the browser
catalogues are copied from; `tests/teaching/test_messages.py` fails if a language misses a key or a
text uses a parameter the other language does not.

Parameters are written `{name}`. Formulas stay out of these texts: they are language-neutral and
travel in the explanation's fields.
"""

from __future__ import annotations

LANGUAGES = ("en", "pt-BR")

MESSAGES: dict[str, dict[str, str]] = {
    # --- per backward step explanations -------------------------------------------------------------
    "rule_not_documented": {
        "en": "The local derivative rule for {op} is not documented yet.",
        "pt-BR": "A regra local de derivada de {op} ainda não está documentada.",
    },
    "rule_unverified": {
        "en": "Grafo's rule for {op} does not fit this call (its numbers differ from the gradient torch "
              "sent), so it is not shown.",
        "pt-BR": "A regra do Grafo para {op} não se aplica a esta chamada (os números diferem do gradiente "
                 "que o torch enviou), então ela não é mostrada.",
    },
    "internal_step": {
        "en": "An inner autograd step of {op}; the rule for the whole call is shown at step {step}.",
        "pt-BR": "Um passo interno do autograd dentro de {op}; a regra da chamada inteira aparece no passo {step}.",
    },
    "gradcheck_not_recomputed": {
        "en": "J could not be recomputed for the gradient check: {error}",
        "pt-BR": "Não foi possível recalcular J para a verificação do gradiente: {error}",
    },
    "seed": {
        "en": "backward() starts at {root} with d{root}/d{root} = {value}.",
        "pt-BR": "O backward() começa em {root} com d{root}/d{root} = {value}.",
    },
    "broadcast_sum": {
        "en": "{tensor} has shape {shape} but was broadcast to {broadcast_shape}, so its gradient is "
              "summed over dims {dims}.",
        "pt-BR": "{tensor} tem formato {shape}, mas foi expandido (broadcast) para {broadcast_shape}; por isso "
                 "seu gradiente é somado nas dimensões {dims}.",
    },
    "no_grad_needed": {
        "en": "{tensor} does not require grad, so no gradient is sent to it.",
        "pt-BR": "{tensor} não requer gradiente (requires_grad=False), então nenhum gradiente é enviado a ele.",
    },
    "not_differentiable": {
        "en": "{tensor} is an index, a condition or a class label: no gradient flows to it.",
        "pt-BR": "{tensor} é um índice, uma condição ou um rótulo de classe: nenhum gradiente flui para ele.",
    },
    "numbers_unavailable": {
        "en": "The numbers are left out: a value this rule needs was changed in place later, or is too large.",
        "pt-BR": "Os números foram omitidos: um valor de que esta regra precisa foi alterado in-place depois, "
                 "ou é grande demais.",
    },
    "sum_of_contributions": {
        "en": "{tensor} is used {count} times, so the engine adds up the {count} gradients it receives.",
        "pt-BR": "{tensor} é usado {count} vezes, então o motor soma os {count} gradientes que ele recebe.",
    },
    "accumulate_grad": {
        "en": "AccumulateGrad stores d{root}/d{tensor} in {tensor}.grad.",
        "pt-BR": "O AccumulateGrad guarda d{root}/d{tensor} em {tensor}.grad.",
    },
    "accumulate_add": {
        "en": "{tensor}.grad already held a gradient (an earlier backward() call); the new one is added to it.",
        "pt-BR": "{tensor}.grad já tinha um gradiente (de um backward() anterior); o novo é somado a ele.",
    },
    "detach_cuts": {
        "en": "detach() returns a tensor with no history: no gradient flows back through it.",
        "pt-BR": "detach() devolve um tensor sem histórico: nenhum gradiente volta por ele.",
    },
    "explanation_failed": {
        "en": "Grafo could not explain this step.",
        "pt-BR": "O Grafo não conseguiu explicar este passo.",
    },
    # --- errors (ErrorBody.hint) -----------------------------------------------------------------------
    "backward_twice": {
        "en": "backward() frees the graph's saved tensors once it has used them, so a second backward() "
              "through the same graph has nothing to work with. Fix: call the first one as "
              "backward(retain_graph=True), or rebuild the graph (run the forward pass again) before the "
              "second backward().",
        "pt-BR": "O backward() libera os tensores salvos do grafo depois de usá-los, então um segundo "
                 "backward() pelo mesmo grafo não tem com o que trabalhar. Correção: chame o primeiro como "
                 "backward(retain_graph=True), ou reconstrua o grafo (rode o forward de novo) antes do "
                 "segundo backward().",
    },
    "non_scalar_backward": {
        "en": "backward() without arguments needs a single number (a scalar) to start from, because it "
              "seeds dJ/dJ = 1. Fix: reduce to a scalar first (for example .sum() or .mean()), or pass the "
              "starting gradient: backward(gradient=torch.ones_like(y)).",
        "pt-BR": "O backward() sem argumentos precisa partir de um único número (um escalar), porque ele "
                 "começa com dJ/dJ = 1. Correção: reduza a um escalar antes (por exemplo .sum() ou .mean()), "
                 "ou passe o gradiente inicial: backward(gradient=torch.ones_like(y)).",
    },
    "inplace_saved_modified": {
        "en": "A tensor that autograd saved for the backward pass was changed in place (+=, add_, x[i] = ...) "
              "after it was saved, so the gradient would be computed from the wrong numbers. Fix: use an "
              "out-of-place version (x = x + 1 instead of x += 1), or clone() the tensor before changing it.",
        "pt-BR": "Um tensor que o autograd salvou para o backward foi alterado in-place (+=, add_, x[i] = ...) "
                 "depois de salvo, então o gradiente seria calculado com os números errados. Correção: use a "
                 "versão que cria um tensor novo (x = x + 1 em vez de x += 1), ou faça clone() antes de alterar.",
    },
    "no_grad_backward": {
        "en": "backward() was called on a tensor that does not require grad, so there is no graph behind "
              "it. Fix: create the parameters with requires_grad=True (for example torch.ones(1, "
              "requires_grad=True)), and do not compute the loss inside torch.no_grad() or from detach()ed "
              "tensors.",
        "pt-BR": "O backward() foi chamado num tensor que não requer gradiente, então não há grafo por trás "
                 "dele. Correção: crie os parâmetros com requires_grad=True (por exemplo torch.ones(1, "
                 "requires_grad=True)), e não calcule a perda dentro de torch.no_grad() nem a partir de "
                 "tensores com detach().",
    },
    "leaf_inplace": {
        "en": "A leaf tensor that requires grad (a parameter) cannot be changed in place while autograd is "
              "recording, because its history starts there. Fix: update parameters inside "
              "`with torch.no_grad():`, or change a copy.",
        "pt-BR": "Um tensor folha que requer gradiente (um parâmetro) não pode ser alterado in-place enquanto o "
                 "autograd grava, porque o histórico começa nele. Correção: atualize os parâmetros dentro de "
                 "`with torch.no_grad():`, ou altere uma cópia.",
    },
    "numpy_requires_grad": {
        "en": "A tensor that requires grad cannot become a NumPy array directly. Fix: call .detach() "
              "first: t.detach().numpy().",
        "pt-BR": "Um tensor que requer gradiente não vira um array NumPy diretamente. Correção: chame "
                 ".detach() antes: t.detach().numpy().",
    },
    "gradient_shape_mismatch": {
        "en": "The gradient passed to backward(gradient=...) must have the same shape as the tensor "
              "backward() is called on.",
        "pt-BR": "O gradiente passado em backward(gradient=...) precisa ter o mesmo formato do tensor em que "
                 "o backward() é chamado.",
    },
    # --- warnings (TraceWarning.key) --------------------------------------------------------------------
    "nonleaf_grad_none": {
        "en": ".grad of a tensor computed from others (not a leaf) stays None: autograd keeps gradients only "
              "for leaves. Fix: call .retain_grad() on it before backward(), or look at the hand backprop "
              "table, which shows dJ/d(tensor) for every tensor.",
        "pt-BR": "O .grad de um tensor calculado a partir de outros (não folha) fica None: o autograd só guarda "
                 "gradientes das folhas. Correção: chame .retain_grad() nele antes do backward(), ou veja a "
                 "tabela de backprop à mão, que mostra dJ/d(tensor) para todo tensor.",
    },
    "syntax_error": {
        "en": "Python cannot read this line: {detail}.",
        "pt-BR": "O Python não consegue ler esta linha: {detail}.",
    },
    "timeout": {
        "en": "The program ran longer than the time limit ({seconds} s).",
        "pt-BR": "O programa rodou mais que o limite de tempo ({seconds} s).",
    },
    "timeout_here": {
        "en": "The program was stopped here: it ran past its time limit.",
        "pt-BR": "O programa foi parado aqui: passou do limite de tempo.",
    },
    "timeout_after_passes": {
        "en": "The program ran past its time limit after {passes} backward passes; what it did until then is shown.",
        "pt-BR": "O programa passou do limite de tempo depois de {passes} passadas de backward; o que ele fez até ali é mostrado.",
    },
    "timeout_cpu": {
        "en": "The program used more CPU time than a run may use.",
        "pt-BR": "O programa usou mais tempo de CPU do que uma execução pode usar.",
    },
    "limit_ops": {
        "en": "The program ran more than {count} tensor operations.",
        "pt-BR": "O programa executou mais de {count} operações com tensores.",
    },
    "limit_output_chars": {
        "en": "The program printed more than {count} characters.",
        "pt-BR": "O programa imprimiu mais de {count} caracteres.",
    },
    "limit_output_lines": {
        "en": "The program printed more than {count} lines.",
        "pt-BR": "O programa imprimiu mais de {count} linhas.",
    },
    "limit_source_bytes": {
        "en": "The program is longer than {count} bytes.",
        "pt-BR": "O programa tem mais de {count} bytes.",
    },
    "limit_lines": {
        "en": "The program has more than {count} lines.",
        "pt-BR": "O programa tem mais de {count} linhas.",
    },
    "limit_memory": {
        "en": "The program needed more memory than a run may use.",
        "pt-BR": "O programa precisou de mais memória do que uma execução pode usar.",
    },
    "limit_recursion": {
        "en": "The program's functions called each other too deeply (RecursionError).",
        "pt-BR": "As funções do programa chamaram umas às outras fundo demais (RecursionError).",
    },
    "limit_trace_bytes": {
        "en": "The trace is larger than {bytes} bytes even with its values summarised; trace fewer or smaller tensors.",
        "pt-BR": "O traço tem mais de {bytes} bytes mesmo com os valores resumidos; trace menos tensores, ou menores.",
    },
    "program_exited": {
        "en": "The program exited with status {status}.",
        "pt-BR": "O programa terminou com status {status}.",
    },
    "root_not_tensor": {
        "en": "The root {name} is not a tensor in this program.",
        "pt-BR": "A raiz {name} não é um tensor neste programa.",
    },
    "bad_eps": {
        "en": "eps must be a number with 0 < eps ≤ 1.",
        "pt-BR": "eps deve ser um número com 0 < eps ≤ 1.",
    },
    "internal_error": {
        "en": "The program could not be traced: an unexpected error inside Grafo was logged.",
        "pt-BR": "Não foi possível traçar o programa: um erro inesperado dentro do Grafo foi registrado.",
    },
    "process_exited": {
        "en": "The program ended its own process (exit code {code}) before its trace was sent.",
        "pt-BR": "O programa encerrou o próprio processo (código {code}) antes de o traço ser enviado.",
    },
    "forbidden_call": {
        "en": "The program made a system call the sandbox forbids.",
        "pt-BR": "O programa fez uma chamada de sistema que a sandbox proíbe.",
    },
    "process_crashed": {
        "en": "The program's process crashed ({signal}).",
        "pt-BR": "O processo do programa caiu ({signal}).",
    },
    "process_aborted": {
        "en": "The program's process aborted (SIGABRT), most often for lack of memory.",
        "pt-BR": "O processo do programa abortou (SIGABRT), quase sempre por falta de memória.",
    },
    "worker_stopped": {
        "en": "The program's process was stopped (it may have used too much memory).",
        "pt-BR": "O processo do programa foi parado (ele pode ter usado memória demais).",
    },
    "unreadable_result": {
        "en": "The program's result could not be read ({reason}).",
        "pt-BR": "O resultado do programa não pôde ser lido ({reason}).",
    },
    "sandbox_unavailable": {
        "en": "This server cannot confine programs, so it runs none: {reason}.",
        "pt-BR": "Este servidor não consegue isolar programas, então não executa nenhum: {reason}.",
    },
    "second_run_failed": {
        "en": "The program made more backward passes than Grafo keeps in full from one run, and running it "
              "again to record the last ones failed: the first passes are shown in full, every pass in the "
              "loss chart.",
        "pt-BR": "O programa fez mais passadas de backward do que o Grafo guarda por inteiro numa execução, e "
                 "executá-lo de novo para gravar as últimas falhou: as primeiras passadas aparecem por inteiro, "
                 "todas no gráfico da perda.",
    },
    "not_deterministic": {
        "en": "Grafo ran the program twice to record its last pass in full, and it ran differently the second "
              "time (randomness without a seed, the clock...): the first passes are shown in full instead.",
        "pt-BR": "O Grafo executou o programa duas vezes para gravar a última passada por inteiro, e ele se "
                 "comportou diferente na segunda vez (aleatoriedade sem semente, o relógio...): as primeiras "
                 "passadas aparecem por inteiro no lugar.",
    },
    "values_summarised": {
        "en": "This trace was large, so each value is shown with at most {count} numbers (its shape, minimum, "
              "maximum and mean are exact).",
        "pt-BR": "Este traço era grande, então cada valor aparece com no máximo {count} números (a forma, o "
                 "mínimo, o máximo e a média são exatos).",
    },
    "grad_of_constant": {
        "en": "{name}.grad is None because {name} does not require grad: it was mixed into the computation "
              "as a constant, so no gradient reaches it. Fix: create it with requires_grad=True if you "
              "want dJ/d{name}.",
        "pt-BR": "{name}.grad é None porque {name} não requer gradiente: ele entrou no cálculo como constante, "
                 "então nenhum gradiente chega até ele. Correção: crie-o com requires_grad=True se você quer "
                 "dJ/d{name}.",
    },
    "nothing_requires_grad": {
        "en": "Nothing in this program requires grad, so there is no backward pass to show.",
        "pt-BR": "Nada neste programa requer gradiente, então não há backward para mostrar.",
    },
    "root_no_grad": {
        "en": "{name} does not require grad, so there is no backward pass to show.",
        "pt-BR": "{name} não requer gradiente, então não há backward para mostrar.",
    },
    "implicit_seed_ones": {
        "en": "The root has {count} elements, not one: Grafo seeded backward() with ones.",
        "pt-BR": "A raiz tem {count} elementos, não um: o Grafo iniciou o backward() com uns.",
    },
    # --- gradient check -----------------------------------------------------------------------------
    "gradcheck_sentence": {
        "en": "If {leaf} grows by {eps}, {root} grows by about {delta}.",
        "pt-BR": "Se {leaf} aumentar {eps}, {root} aumenta cerca de {delta}.",
    },
}


def text(key: str, language: str = "en", **params) -> str:
    """A message in one language with its parameters filled in (for the CLI and tests)."""
    return MESSAGES[key][language].format(**params)
