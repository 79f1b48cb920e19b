# SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
# bash completion for xlb: `xlb [OPTIONS] OBJECT COMMAND [ARGS]`.
# Install: copy to /usr/share/bash-completion/completions/xlb, or source it.
# VIPs are completed from `xlb vip list` when xlbd answers (root only).
# COMPREPLY=($(compgen ...)) is the idiom of completion scripts: words
# never hold spaces here.
# shellcheck disable=SC2207

_xlb_vips()
{
	local sock=()
	[[ -n $_xlb_socket ]] && sock=(-s "$_xlb_socket")
	xlb "${sock[@]}" vip list 2>/dev/null | awk 'NR > 1 { print $1 }'
}

# The pools' names, from `xlb pool list`.
_xlb_pools()
{
	local sock=()
	[[ -n $_xlb_socket ]] && sock=(-s "$_xlb_socket")
	xlb "${sock[@]}" pool list 2>/dev/null | awk 'NR > 1 { print $1 }'
}

# The host's interfaces: what `xlb uplink add` takes.
_xlb_ifaces()
{
	ls /sys/class/net 2>/dev/null
}

# The uplinks' interfaces, from `xlb uplink list`; the host's when xlbd
# does not answer.
_xlb_uplinks()
{
	local sock=() names
	[[ -n $_xlb_socket ]] && sock=(-s "$_xlb_socket")
	names=$(xlb "${sock[@]}" uplink list 2>/dev/null |
		awk 'NR > 1 { print $1 }')
	if [[ -n $names ]]; then
		echo "$names"
	else
		_xlb_ifaces
	fi
}

# The backends of VIP $1, from `xlb backend list VIP`.
_xlb_backends()
{
	local sock=()
	[[ -n $1 ]] || return
	[[ -n $_xlb_socket ]] && sock=(-s "$_xlb_socket")
	xlb "${sock[@]}" backend list "$1" 2>/dev/null |
		awk 'NR > 1 { print $2 }'
}

# The options of OBJECT's settable fields, as `xlb OBJECT help` lists them
# (generated from the field tables, so a new field completes too).
_xlb_field_opts()
{
	xlb "$1" help 2>/dev/null |
		awk '/^  --/ { for (i = 1; i <= NF; i++)
			if ($i ~ /^--[a-z-]+$/) print $i; else if ($i != "|") break }'
}

# Whether option $1 takes a value (the next word): the CLI's own ones,
# and every field option that `xlb OBJECT help` shows with an argument.
_xlb_takes_value()
{
	case $1 in
	-s | --socket | --pin-dir | --watch | --backend | --limit | --interval | \
		--count | -c | -w | --write | --reason | --sample)
		return 0
		;;
	--*)
		xlb vip help 2>/dev/null; xlb backend help 2>/dev/null
		xlb check help 2>/dev/null; xlb pool help 2>/dev/null
		xlb uplink help 2>/dev/null
		;;
	*)
		return 1
		;;
	esac | grep -qE -- "^  $1 [A-Za-z|]"
}

# Without the bash-completion package: the plain COMP_* variables and
# compgen for file names.
if ! declare -F _init_completion >/dev/null; then
	_init_completion()
	{
		words=("${COMP_WORDS[@]}")
		cword=$COMP_CWORD
		cur=${COMP_WORDS[COMP_CWORD]}
		prev=${COMP_WORDS[COMP_CWORD - 1]}
	}
	_filedir()
	{
		local IFS=$'\n'
		if [[ $1 == -d ]]; then
			COMPREPLY=($(compgen -d -- "$cur"))
		else
			COMPREPLY=($(compgen -f -- "$cur"))
		fi
	}
fi

_xlb()
{
	local cur prev words cword
	_init_completion -n = || return

	local global_opts='-j --json -s --socket --pin-dir -v --verbose -h --help --version'
	local objects='vip backend check pool uplink stats flow top trace ring status config batch help'
	local -A commands=(
		[vip]='add del delete list ls show set help'
		[backend]='add del delete set list ls show help'
		[check]='set del delete show list ls help'
		[pool]='add del delete list ls show help'
		[uplink]='add set del delete list ls show help'
		[stats]='vip backend help'
		[flow]='list ls show count help'
		[top]='help'
		[trace]='help'
		[ring]='show help'
		[status]='help'
		[config]='apply dump help'
	)

	# Walk the words: global options, then OBJECT, then COMMAND.
	local i=1 object='' command='' _xlb_socket=''
	while ((i < cword)); do
		case ${words[i]} in
		-s | --socket)
			_xlb_socket=${words[i + 1]}
			((i += 2))
			continue
			;;
		--pin-dir)
			((i += 2))
			continue
			;;
		--socket=*) _xlb_socket=${words[i]#--socket=} ;;
		-*) ;;
		*)
			object=${words[i]}
			((i++))
			break
			;;
		esac
		((i++))
	done
	if ((i < cword)) && [[ ${words[i]} != -* ]]; then
		command=${words[i]}
		((i++))
	fi

	# Values of options, wherever they are.
	case $prev in
	-s | --socket | --ca)
		_filedir
		return
		;;
	--pin-dir)
		_filedir -d
		return
		;;
	--encap)
		COMPREPLY=($(compgen -W 'default ipip gue' -- "$cur"))
		return
		;;
	--state)
		COMPREPLY=($(compgen -W 'up drain down' -- "$cur"))
		return
		;;
	--flags)
		# A comma-separated list: complete the last element.
		local done_part=${cur%,*} last=${cur##*,}
		[[ $cur == *,* ]] && done_part+=, || done_part=''
		COMPREPLY=($(compgen -P "$done_part" \
			-W 'none no-sport no-flow-table dport-only' -- "$last"))
		compopt -o nospace 2>/dev/null
		return
		;;
	--kind)
		COMPREPLY=($(compgen -W 'tcp http https udp exec agent none' -- "$cur"))
		return
		;;
	--all-down)
		COMPREPLY=($(compgen -W 'drop keep' -- "$cur"))
		return
		;;
	--on-check-down)
		COMPREPLY=($(compgen -W 'keep move' -- "$cur"))
		return
		;;
	--balance)
		COMPREPLY=($(compgen -W 'none bytes packets bytes,packets' -- "$cur"))
		return
		;;
	--mode)
		COMPREPLY=($(compgen -W 'dsr nat' -- "$cur"))
		return
		;;
	--pool)
		COMPREPLY=($(compgen -W "$(_xlb_pools)" -- "$cur"))
		return
		;;
	--backend)
		# The VIP is the first word after COMMAND that is no option.
		local k vip=''
		for ((k = i; k < cword - 1; k++)); do
			if _xlb_takes_value "${words[k]}"; then
				((k++))
			elif [[ ${words[k]} != -* ]]; then
				vip=${words[k]}
				break
			fi
		done
		COMPREPLY=($(compgen -W "$(_xlb_backends "$vip")" -- "$cur"))
		return
		;;
	-w | --write)
		_filedir
		return
		;;
	--reason)
		# The verdict counters, as `xlb stats` names them.
		COMPREPLY=($(compgen -W "$(xlb stats 2>/dev/null |
			awk '$1 ~ /^(tx|pass|drop)_/ { print $1 }')" -- "$cur"))
		return
		;;
	--watch | --limit | --interval | --count | -c | --sample)
		return
		;;
	esac
	# Any other option with a value: nothing to offer.
	[[ $prev == --* ]] && _xlb_takes_value "$prev" && return

	if [[ -z $object ]]; then
		if [[ $cur == -* ]]; then
			COMPREPLY=($(compgen -W "$global_opts" -- "$cur"))
		else
			COMPREPLY=($(compgen -W "$objects" -- "$cur"))
		fi
		return
	fi

	# xlb batch [FILE]: a file, and nothing after it.
	if [[ $object == batch ]]; then
		[[ -z $command ]] && _filedir
		return
	fi

	# Words after COMMAND that are not options: the positionals so far.
	local npos=0 j
	for ((j = i; j < cword; j++)); do
		if _xlb_takes_value "${words[j]}"; then
			((j++))
		elif [[ ${words[j]} != -* ]]; then
			((npos++))
		fi
	done

	local opts='' first=''
	case $object in
	vip)
		case $command in
		add | set)
			opts=$(_xlb_field_opts vip)
			((npos == 0)) && first=vip
			;;
		del | delete | show) ((npos == 0)) && first=vip ;;
		'')
			COMPREPLY=($(compgen -W "${commands[vip]}" -- "$cur"))
			return
			;;
		esac
		;;
	check)
		case $command in
		set)
			opts="--backend $(_xlb_field_opts check)"
			((npos == 0)) && first=vip
			;;
		del | delete)
			opts='--backend'
			((npos == 0)) && first=vip
			;;
		show | list | ls) ((npos == 0)) && first=vip ;;
		'')
			COMPREPLY=($(compgen -W "${commands[check]}" -- "$cur"))
			return
			;;
		esac
		;;
	pool)
		case $command in
		add) opts=$(_xlb_field_opts pool) ;;
		del | delete | show) ((npos == 0)) && first=pool ;;
		'')
			COMPREPLY=($(compgen -W "${commands[pool]}" -- "$cur"))
			return
			;;
		esac
		;;
	uplink)
		case $command in
		add)
			opts=$(_xlb_field_opts uplink)
			((npos == 0)) && first=iface
			;;
		set)
			opts=$(_xlb_field_opts uplink)
			((npos == 0)) && first=uplink
			;;
		del | delete | show) ((npos == 0)) && first=uplink ;;
		'')
			COMPREPLY=($(compgen -W "${commands[uplink]}" -- "$cur"))
			return
			;;
		esac
		;;
	backend)
		case $command in
		add | set)
			opts=$(_xlb_field_opts backend)
			((npos == 0)) && first=vip
			;;
		del | delete) ((npos == 0)) && first=vip ;;
		list | ls | show) ((npos == 0)) && first=vip ;;
		'')
			COMPREPLY=($(compgen -W "${commands[backend]}" -- "$cur"))
			return
			;;
		esac
		;;
	stats)
		opts='--watch'
		case $command in
		vip) ((npos == 0)) && first=vip ;;
		'')
			if [[ $cur != -* ]]; then
				COMPREPLY=($(compgen -W "${commands[stats]}" -- "$cur"))
				return
			fi
			;;
		esac
		;;
	flow)
		case $command in
		list | ls | show)
			opts='--backend --limit'
			((npos == 0)) && first=vip
			;;
		count) ((npos == 0)) && first=vip ;;
		'')
			COMPREPLY=($(compgen -W "${commands[flow]}" -- "$cur"))
			return
			;;
		esac
		;;
	top)
		opts='--interval --count'
		if [[ -z $command && $cur != -* ]]; then
			COMPREPLY=($(compgen -W "${commands[top]}" -- "$cur"))
			return
		fi
		;;
	trace)
		# No commands: the first word is the filter, a VIP or more.
		opts='--backend --reason --sample -c --count -w --write --stop'
		if [[ -z $command && $cur != -* ]]; then
			COMPREPLY=($(compgen -W "${commands[trace]} $(_xlb_vips)" -- "$cur"))
			return
		fi
		;;
	ring)
		case $command in
		show) ((npos == 0)) && first=vip ;;
		'')
			COMPREPLY=($(compgen -W "${commands[ring]}" -- "$cur"))
			return
			;;
		esac
		;;
	status)
		[[ -z $command ]] &&
			COMPREPLY=($(compgen -W "${commands[status]}" -- "$cur"))
		return
		;;
	config)
		case $command in
		apply)
			((npos == 0)) && _filedir json
			return
			;;
		'')
			COMPREPLY=($(compgen -W "${commands[config]}" -- "$cur"))
			return
			;;
		esac
		;;
	esac

	if [[ $cur == -* ]]; then
		COMPREPLY=($(compgen -W "$opts" -- "$cur"))
	elif [[ $first == vip ]]; then
		COMPREPLY=($(compgen -W "$(_xlb_vips)" -- "$cur"))
	elif [[ $first == pool ]]; then
		COMPREPLY=($(compgen -W "$(_xlb_pools)" -- "$cur"))
	elif [[ $first == iface ]]; then
		COMPREPLY=($(compgen -W "$(_xlb_ifaces)" -- "$cur"))
	elif [[ $first == uplink ]]; then
		COMPREPLY=($(compgen -W "$(_xlb_uplinks)" -- "$cur"))
	fi
} &&
	complete -F _xlb xlb
