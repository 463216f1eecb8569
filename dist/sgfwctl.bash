# SPDX-License-Identifier: BSD-3-Clause
# bash completion for sgfwctl (sgfwctl(8)): commands, their words, and the names of ports and
# groups, asked of the running switch or the config (the -c or -s given, else the defaults).

_sgfwctl_names() # ports|groups, with the -c/-s of the command line being completed
{
    local key=name
    [[ $1 == groups ]] && key=id
    sgfwctl "${_sgfwctl_opts[@]}" --json "$1" 2>/dev/null |
        sed -n "s/^    \"$key\": \"\\(.*\\)\",\$/\\1/p"
}

_sgfwctl_commands() # the command table's words (sgfwctl --json methods), one command a line
{
    sgfwctl --json methods 2>/dev/null | sed -n 's/^    "words": "\(.*\)",$/\1/p'
}

_sgfwctl()
{
    local cur prev words cword
    _init_completion || return

    local table
    table=$(_sgfwctl_commands)
    local commands=$(echo "$table" | awk '{ print $1 }' | awk '!seen[$0]++')
    local i cmd= cmd_at=0
    _sgfwctl_opts=()
    for ((i = 1; i < cword; i++)); do
        case ${words[i]} in
            -c | --config | -s | --socket | --etcd | --etcd-prefix | --etcd-host)
                _sgfwctl_opts+=("${words[i]}" "${words[i + 1]}")
                ((i++))
                ;;
            --etcd-ca | --etcd-cert | --etcd-key)
                ((i++))
                ;;
            -*) ;;
            *)
                cmd=${words[i]}
                cmd_at=$i
                break
                ;;
        esac
    done

    case $prev in
        -c | --config | -w | --etcd-ca | --etcd-cert | --etcd-key)
            _filedir
            return
            ;;
        --etcd | --etcd-prefix | --etcd-host)
            return
            ;;
        -s | --socket)
            _filedir sock
            return
            ;;
    esac

    if [[ -z $cmd ]]; then
        if [[ $cur == -* ]]; then
            COMPREPLY=($(compgen -W "--config --socket --etcd --etcd-prefix --etcd-host --etcd-ca --etcd-cert --etcd-key --json --help --version" -- "$cur"))
        else
            COMPREPLY=($(compgen -W "$commands" -- "$cur"))
        fi
        return
    fi

    local arg=$((cword - cmd_at)) sub=${words[cmd_at + 1]}
    local words_now=
    case $cmd in
        effective)
            case $arg in
                1) words_now=$(_sgfwctl_names ports) ;;
                2) words_now="ingress egress" ;;
            esac
            ;;
        explain)
            case $arg in
                1) words_now=$(_sgfwctl_names ports) ;;
                2) words_now="ingress egress to" ;;
                3) [[ $prev == to ]] && words_now=$(_sgfwctl_names ports) ||
                    words_now="tcp udp icmp icmpv6" ;;
                *) words_now="tcp udp icmp icmpv6 --ipv6 --icmp-type --icmp-code" ;;
            esac
            ;;
        stats | capture)
            if ((arg == 1)); then
                words_now=$(_sgfwctl_names ports)
            elif [[ $cmd == capture ]]; then
                words_now="--count --filter --passed --snaplen -w"
            fi
            ;;
        group)
            case $arg in
                1) words_now=$(echo "$table" | awk '$1 == "group" { print $2 }') ;;
                2) [[ $sub != create ]] && words_now=$(_sgfwctl_names groups) ;;
                3) [[ $sub == tag ]] && words_now="add remove" ||
                    words_now="type= inner_access_policy= tags= description=" ;;
            esac
            ;;
        rule)
            case $arg in
                1) words_now=$(echo "$table" | awk '$1 == "rule" { print $2 }') ;;
                2) words_now=$(_sgfwctl_names groups) ;;
                *) [[ $sub != remove ]] && words_now="direction= policy= priority= protocol=
                    port_range= source_port_range= icmp_type= icmp_code= source_cidr=
                    source_group= source_prefix_list= dest_cidr= dest_group= dest_prefix_list=
                    description=" ;;
            esac
            ;;
        port)
            case $arg in
                1) words_now=$(echo "$table" | awk '$1 == "port" { print $2 }') ;;
                2) [[ $sub == add ]] && words_now="name= type=" ||
                    words_now=$(_sgfwctl_names ports) ;;
                3) case $sub in
                       attach | detach) words_now=$(_sgfwctl_names groups) ;;
                       tag) words_now="add remove" ;;
                       add) words_now="type= mac= ips= tags= security_groups= path= client=
                           queues= iface= socket_owner= socket_group= socket_mode=" ;;
                   esac ;;
                *) [[ $sub == add ]] && words_now="mac= ips= tags= security_groups= path=
                    client= queues= iface= socket_owner= socket_group= socket_mode=" ;;
            esac
            ;;
        attach-by-tag)
            ((arg == 2)) && words_now=$(_sgfwctl_names groups)
            ;;
        import)
            if ((arg == 1)); then
                words_now="alibaba"
            else
                _filedir json
                return
            fi
            ;;
        export)
            ((arg == 1)) && words_now="alibaba"
            ((arg == 2)) && words_now=$(_sgfwctl_names groups)
            ;;
        ct)
            words_now="count port= addr= proto= state= limit="
            ;;
        audit)
            case $prev in
                --flow-logs | --eni-map | --output) _filedir; return ;;
                --log-format) words_now="auto text json alibaba aws-v5" ;;
                --eni) ;;
                *) words_now="--flow-logs --log-format --eni --eni-map --config-only --output" ;;
            esac
            ;;
        log)
            case $arg in
                1) words_now="level" ;;
                2) words_now=$(sgfwctl "${_sgfwctl_opts[@]}" log 2>/dev/null | awk '{ print $1 }') ;;
                3) words_now="emergency alert critical error warning notice info debug" ;;
            esac
            ;;
    esac
    [[ $cur == *= ]] && compopt -o nospace
    COMPREPLY=($(compgen -W "$words_now" -- "$cur"))
    [[ ${#COMPREPLY[@]} -eq 1 && ${COMPREPLY[0]} == *= ]] && compopt -o nospace
} &&
    complete -F _sgfwctl sgfwctl
